import type { Migration } from "@sluice/database";

export const appendBatchReturnsEvents: Migration = {
  id: "event-store/004-append-batch-returns-events",
  sql: /* sql */ `
    -- As 002, with two changes. Each accepted command's outcome also names what was recorded:
    -- its events' global positions and ids, in the order given, the transaction and its time.
    -- With the events the caller holds, that is each RecordedEvent, so whoever appended hands
    -- them on (inline projections, the outbox) without reading them back. And commands of one
    -- batch that name the same stream no longer fail the batch.
    create or replace function append_batch(p_commands jsonb) returns jsonb
    language plpgsql as $$
    declare
      -- Each stream the batch names, as stored and then as the accepted commands leave it:
      -- {streamId: [version, organization, type]}.
      streams jsonb;
      handled jsonb;
      c jsonb;
      s jsonb;
      seen jsonb;
      entry jsonb;
      command_key text;
      current_version bigint;
      at_expected boolean;
      versions jsonb;
      bases jsonb;
      failure jsonb;
      accepted jsonb := '[]';
      outcomes jsonb := '[]';
      positions jsonb;
    begin
      -- Locked in stream id order, so that two batches over the same streams take them in the same order.
      select coalesce(jsonb_object_agg(stream_id, jsonb_build_array(version, organization_id, stream_type)), '{}')
      into streams
      from (
        select stream_id, version, organization_id, stream_type from event_streams
        -- As an array, not a set-returning subquery: the cached plan then scans the index at any
        -- table size, where a subquery's estimate (100 rows) makes it scan young tables whole.
        where stream_id = any(array(
          select x->>'streamId' from jsonb_array_elements(p_commands) cmd, jsonb_array_elements(cmd->'streams') x
        ))
        order by stream_id
        for update
      ) locked;

      select coalesce(jsonb_object_agg(r.organization_id || '/' || r.command_id, true), '{}')
      into handled
      from command_results r
      -- Each column against an array (index scans, as above); a row matching a pair that is not in
      -- the batch is keyed by its own pair, which no command of the batch looks up.
      where r.organization_id = any(array(select cmd->>'organizationId' from jsonb_array_elements(p_commands) cmd))
        and r.command_id = any(array(select cmd->>'commandId' from jsonb_array_elements(p_commands) cmd));

      for c in select value from jsonb_array_elements(p_commands) loop
        command_key := (c->>'organizationId') || '/' || (c->>'commandId');
        failure := null;
        seen := streams;
        versions := '{}';
        bases := '{}';
        if handled ? command_key then
          failure := jsonb_build_object('code', 'SLDUP', 'detail', c->>'commandId');
        else
          for s in select value from jsonb_array_elements(c->'streams') order by value->>'streamId' loop
            -- A stream not stored yet starts empty, in this command's organization, of its type.
            entry := coalesce(seen->(s->>'streamId'), jsonb_build_array(0, c->>'organizationId', s->>'streamType'));
            current_version := (entry->>0)::bigint;
            at_expected := case s->>'expected'
              when 'any' then true
              when 'no_stream' then current_version = 0
              when 'stream_exists' then current_version > 0
              else current_version = (s->>'expected')::bigint
            end;
            if entry->>1 <> c->>'organizationId' then
              failure := jsonb_build_object('code', 'SL403', 'detail', s->>'streamId');
            -- An id of one kind of aggregate used for another: its events would fold into nonsense.
            elsif entry->>2 <> s->>'streamType' then
              failure := jsonb_build_object('code', 'SLTYP', 'detail', jsonb_build_object(
                'streamId', s->>'streamId', 'recorded', entry->>2, 'requested', s->>'streamType')::text);
            elsif not at_expected then
              failure := jsonb_build_object('code', 'SL409', 'detail', jsonb_build_object(
                'streamId', s->>'streamId', 'expected', s->>'expected', 'actual', current_version::text)::text);
            end if;
            exit when failure is not null;
            bases := bases || jsonb_build_object(s->>'streamId', current_version);
            versions := versions || jsonb_build_object(s->>'streamId', (current_version + (s->>'eventCount')::bigint)::text);
            seen := seen || jsonb_build_object(s->>'streamId', jsonb_build_array(
              current_version + (s->>'eventCount')::bigint, c->>'organizationId', s->>'streamType'));
          end loop;
        end if;
        if failure is null then
          streams := seen;
          -- The same command twice in one batch: the second is a retry of the first.
          handled := handled || jsonb_build_object(command_key, true);
          accepted := accepted || jsonb_build_array(c || jsonb_build_object('bases', bases));
          outcomes := outcomes || jsonb_build_array(jsonb_build_object('versions', versions, 'key', command_key));
        else
          outcomes := outcomes || jsonb_build_array(jsonb_build_object('error', failure));
        end if;
      end loop;

      if jsonb_array_length(accepted) = 0 then
        return outcomes;
      end if;

      insert into command_results (organization_id, command_id, result_type, result)
      select a->>'organizationId', a->>'commandId', a->>'resultType', a->'result'
      from jsonb_array_elements(accepted) a;

      -- Once per stream: commands of one batch often name the same one (a project each order
      -- guards), and an insert may not update a row twice; 002 failed such batches whole.
      insert into event_streams (stream_id, organization_id, stream_type, version)
      select distinct on (st->>'streamId')
             st->>'streamId', a->>'organizationId', st->>'streamType', (streams->(st->>'streamId')->>0)::bigint
      from jsonb_array_elements(accepted) a, jsonb_array_elements(a->'streams') st
      order by st->>'streamId'
      on conflict (stream_id) do update set version = excluded.version;

      with inserted as (
        insert into events (organization_id, stream_id, stream_type, stream_version, type, data, metadata)
        select a.value->>'organizationId',
               e.value->>'streamId',
               st.value->>'streamType',
               (a.value->'bases'->>(e.value->>'streamId'))::bigint
                 + row_number() over (partition by a.ordinality, e.value->>'streamId' order by e.ordinality),
               e.value->>'type',
               e.value->'data',
               a.value->'metadata'
        from jsonb_array_elements(accepted) with ordinality a
        cross join lateral jsonb_array_elements(a.value->'events') with ordinality e
        join lateral jsonb_array_elements(a.value->'streams') st on st.value->>'streamId' = e.value->>'streamId'
        order by a.ordinality, e.ordinality
        returning organization_id, metadata->>'commandId' as command_id, global_position, event_id
      )
      select coalesce(jsonb_object_agg(key, recorded), '{}') into positions
      from (
        select organization_id || '/' || command_id as key,
               jsonb_agg(jsonb_build_array(global_position::text, event_id) order by global_position) as recorded
        from inserted group by 1
      ) p;

      return (
        select jsonb_agg(
          case when o ? 'versions'
            then jsonb_build_object(
              'versions', o->'versions',
              'events', coalesce(positions->(o->>'key'), '[]'),
              'transactionId', pg_current_xact_id()::text,
              'occurredAt', now())
            else o
          end
          order by n)
        from jsonb_array_elements(outcomes) with ordinality as x(o, n)
      );
    end;
    $$;
  `,
};
