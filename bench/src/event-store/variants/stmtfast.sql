-- statement: a batch of one command on one stream, judged by the stream's upsert itself (its WHERE), written only if it passes
with keys as (
  insert into data_subject_keys (organization_id, subject_id, wrapped_key)
  select k.organization_id, k.subject_id, decode(k.wrapped_key, 'base64')
  from unnest($15::text[], $16::text[], $17::text[]) as k(organization_id, subject_id, wrapped_key)
  on conflict do nothing
  returning 1
), created as (
  insert into event_streams (stream_id, organization_id, stream_type, version, closed_at)
  select ($7::text[])[1], ($1::text[])[1], ($8::text[])[1], ($10::int[])[1], case when ($11::boolean[])[1] then now() end
  where ($9::text[])[1] in ('any', 'no_stream', '0')
  on conflict do nothing
  returning version
), moved as (
  update event_streams t
  set version = t.version + ($10::int[])[1],
      closed_at = coalesce(t.closed_at, case when ($11::boolean[])[1] then now() end)
  where t.stream_id = ($7::text[])[1]
    and t.organization_id = ($1::text[])[1] and t.stream_type = ($8::text[])[1]
    and (t.closed_at is null or ($10::int[])[1] = 0)
    and case ($9::text[])[1]
          when 'any' then true
          when 'no_stream' then false
          when 'stream_exists' then t.version > 0
          else t.version = ($9::text[])[1]::bigint
        end
  returning t.version
), s as (
  select version from created union all select version from moved
), r as (
  insert into command_results (organization_id, command_id, result_type, result)
  select ($1::text[])[1], ($2::text[])[1], ($3::text[])[1], $4::jsonb->0
  from s
), inserted as (
  insert into events (organization_id, stream_id, stream_type, stream_version, type, data, metadata)
  select ($1::text[])[1], ($7::text[])[1], ($8::text[])[1], s.version - ($10::int[])[1] + e.n, e.type,
         $14::jsonb->(e.n::int - 1), $5::jsonb->0
  from s, unnest($13::text[]) with ordinality as e(type, n)
  order by e.n
  returning global_position, event_id
)
select case when s.version is null then array['SLSLOW'] else array[null::text] end as codes,
       array[null::text] as details,
       array[s.version] as versions,
       (select array_agg(i.global_position order by i.global_position) from inserted i) as positions,
       (select array_agg(i.event_id order by i.global_position) from inserted i) as event_ids,
       pg_current_xact_id() as transaction_id, now() as occurred_at,
       (select count(*) from keys) as keys_stored, cardinality($6::int[]) + cardinality($12::int[]) as unused
from (select 1) one left join s on true
