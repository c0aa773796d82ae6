-- statement: append_commands judged set-based in one statement, for a batch whose commands share no stream and no command id
with keys as (
  insert into data_subject_keys (organization_id, subject_id, wrapped_key)
  select k.organization_id, k.subject_id, decode(k.wrapped_key, 'base64')
  from unnest($15::text[], $16::text[], $17::text[]) as k(organization_id, subject_id, wrapped_key)
  on conflict do nothing
  returning 1
), locked as (
  select stream_id, version, organization_id, stream_type, closed_at is not null as closed
  from event_streams where stream_id = any($7::text[]) order by stream_id for update
), entries as (
  select s.entry, s.command, s.stream_id, s.stream_type, s.count, s.close, coalesce(l.version, 0) as current,
         case
           when l.organization_id <> ($1::text[])[s.command] then 'SL403'
           when l.stream_type <> s.stream_type then 'SLTYP'
           when l.closed and s.count > 0 then 'SLCLS'
           when not (case s.expected
               when 'any' then true
               when 'no_stream' then coalesce(l.version, 0) = 0
               when 'stream_exists' then coalesce(l.version, 0) > 0
               else coalesce(l.version, 0) = s.expected::bigint
             end) then 'SL409'
         end as code,
         s.expected, l.stream_type as recorded
  from unnest($6::int[], $7::text[], $8::text[], $9::text[], $10::int[], $11::boolean[])
         with ordinality as s(command, stream_id, stream_type, expected, count, close, entry)
  left join locked l using (stream_id)
), commands as (
  select c.i, c.organization_id, c.command_id,
         case when r.command_id is not null then 'SLDUP' else f.code end as code,
         case when r.command_id is not null then c.command_id else f.detail end as detail
  from unnest($1::text[], $2::text[]) with ordinality as c(organization_id, command_id, i)
  left join command_results r using (organization_id, command_id)
  left join lateral (
    select e.code,
           case e.code
             when 'SL409' then json_build_object('streamId', e.stream_id, 'expected', e.expected, 'actual', e.current::text)::text
             when 'SLTYP' then json_build_object('streamId', e.stream_id, 'recorded', e.recorded, 'requested', e.stream_type)::text
             else e.stream_id
           end as detail
    from entries e where e.command = c.i and e.code is not null order by e.entry limit 1
  ) f on true
), go as (
  select (select count(*) from keys) = cardinality($16::text[]) as keys_ok
), accepted as (
  select c.i from commands c, go where c.code is null and go.keys_ok
), results as (
  insert into command_results (organization_id, command_id, result_type, result)
  select ($1::text[])[a.i], ($2::text[])[a.i], ($3::text[])[a.i], $4::jsonb->(a.i::int - 1)
  from accepted a
), streams as (
  insert into event_streams (stream_id, organization_id, stream_type, version, closed_at)
  select e.stream_id, ($1::text[])[e.command], e.stream_type, e.current + e.count, case when e.close then now() end
  from entries e join accepted a on a.i = e.command
  order by e.stream_id
  on conflict (stream_id) do update
    set version = excluded.version, closed_at = coalesce(event_streams.closed_at, excluded.closed_at)
), inserted as (
  insert into events (organization_id, stream_id, stream_type, stream_version, type, data, metadata)
  select ($1::text[])[s.command], s.stream_id, s.stream_type,
         s.current + row_number() over (partition by ev.entry order by ev.n),
         ev.type, $14::jsonb->(ev.n::int - 1), $5::jsonb->(s.command - 1)
  from unnest($12::int[], $13::text[]) with ordinality as ev(entry, type, n)
  join entries s on s.entry = ev.entry
  join accepted a on a.i = s.command
  order by ev.n
  returning global_position, event_id
)
select (select array_agg(c.code order by c.i) from commands c) as codes,
       (select array_agg(c.detail order by c.i) from commands c) as details,
       (select array_agg(case when a.i is not null then e.current + e.count end order by e.entry)
          from entries e left join accepted a on a.i = e.command) as versions,
       (select array_agg(i.global_position order by i.global_position) from inserted i) as positions,
       (select array_agg(i.event_id order by i.global_position) from inserted i) as event_ids,
       pg_current_xact_id() as transaction_id, now() as occurred_at,
       (select not keys_ok from go) as keys_conflicted
