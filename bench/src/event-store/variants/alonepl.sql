-- the command alone (one command, any streams), as one statement in PL/pgSQL with the function's SETs: written by its streams' own checks, rolled back when one fails (session 8)
create function append_not_accepted() returns boolean language plpgsql as $$
begin
  raise exception 'not accepted as it is' using errcode = 'SLALN';
end;
$$;
create function append_commands_alonepl(
  c_organization text[], c_command text[], c_result_type text[], c_results jsonb, c_metadata jsonb,
  s_command int[], s_stream text[], s_type text[], s_expected text[], s_count int[], s_close boolean[],
  e_entry int[], e_type text[], e_data jsonb,
  k_organization text[], k_subject text[], k_wrapped text[]
) returns table (codes text[], details text[], versions bigint[], positions bigint[], event_ids uuid[],
  transaction_id xid8, occurred_at timestamptz, stored_keys jsonb)
language plpgsql
set plan_cache_mode = force_generic_plan
set enable_seqscan = off
set enable_bitmapscan = off
set enable_hashjoin = off
set enable_mergejoin = off
as $f$
#variable_conflict use_column
begin
  return query
with keys as (
    insert into data_subject_keys (organization_id, subject_id, wrapped_key)
    select k.organization_id, k.subject_id, decode(k.wrapped_key, 'base64')
    from unnest(k_organization::text[], k_subject::text[], k_wrapped::text[]) as k(organization_id, subject_id, wrapped_key)
    on conflict do nothing
    returning 1
  ), entries as (
    select * from unnest(s_stream::text[], s_type::text[], s_expected::text[], s_count::int[], s_close::boolean[])
      with ordinality as e(stream_id, stream_type, expected, count, close, entry)
  ), created as (

    insert into event_streams (stream_id, organization_id, stream_type, version, closed_at)
    select e.stream_id, (c_organization::text[])[1], e.stream_type, e.count, case when e.close then now() end
    from entries e
    where e.expected in ('any', 'no_stream', '0')
    order by e.stream_id
    on conflict do nothing
    returning stream_id, version
  ), moved as (

    update event_streams t
    set version = t.version + e.count, closed_at = coalesce(t.closed_at, case when e.close then now() end)
    from entries e

    where t.stream_id = any(s_stream::text[]) and t.stream_id = e.stream_id
      and t.organization_id = (c_organization::text[])[1] and t.stream_type = e.stream_type
      and (t.closed_at is null or e.count = 0)
      and case e.expected
            when 'any' then true
            when 'no_stream' then false
            when 'stream_exists' then t.version > 0
            else t.version = e.expected::bigint
          end
    returning t.stream_id, t.version
  ), written as (
    select stream_id, version from created union all select stream_id, version from moved
  ), result as (
    insert into command_results (organization_id, command_id, result_type, result)
    values ((c_organization::text[])[1], (c_command::text[])[1], (c_result_type::text[])[1], c_results::jsonb->0)
  ), inserted as (
    insert into events (organization_id, stream_id, stream_type, stream_version, type, data, metadata)
    select (c_organization::text[])[1], e.stream_id, e.stream_type,
           w.version - e.count + row_number() over (partition by ev.entry order by ev.n),
           ev.type, e_data::jsonb->(ev.n::int - 1), c_metadata::jsonb->0
    from unnest(e_entry::int[], e_type::text[]) with ordinality as ev(entry, type, n)
    join entries e on e.entry = ev.entry
    join written w on w.stream_id = e.stream_id
    order by ev.n
    returning global_position, event_id
  )
  select array[null::text] as codes, array[null::text] as details,
         (select array_agg(w.version order by e.entry) from entries e join written w using (stream_id)) as versions,
         (select array_agg(i.global_position order by i.global_position) from inserted i) as positions,
         (select array_agg(i.event_id order by i.global_position) from inserted i) as event_ids,
         pg_current_xact_id() as transaction_id, now() as occurred_at, null::jsonb as stored_keys
  where case
          when (select count(*) from written) = cardinality(s_stream::text[])
           and (select count(*) from keys) = cardinality(k_subject::text[])
           and cardinality(s_command::int[]) = cardinality(s_stream::text[]) then true
          else append_not_accepted()
        end;
end;
$f$;
