-- statement: the floor's three rows, from the same parameters
with r as (
  insert into command_results (organization_id, command_id, result_type, result)
  values (($1::text[])[1], ($2::text[])[1], ($3::text[])[1], $4::jsonb->0)
), s as (
  insert into event_streams (stream_id, organization_id, stream_type, version)
  values (($7::text[])[1], ($1::text[])[1], ($8::text[])[1], ($9::text[])[1]::bigint + 1)
  on conflict (stream_id) do update set version = excluded.version
)
insert into events (organization_id, stream_id, stream_type, stream_version, type, data, metadata)
values (($1::text[])[1], ($7::text[])[1], ($8::text[])[1], ($9::text[])[1]::bigint + 1, ($13::text[])[1], $14::jsonb->0, $5::jsonb->0)
returning global_position, event_id, cardinality($6::int[]) + cardinality($10::int[]) + cardinality($12::int[]) + cardinality($11::boolean[])
  + cardinality($15::text[]) + cardinality($16::text[]) + cardinality($17::text[]) as unused
