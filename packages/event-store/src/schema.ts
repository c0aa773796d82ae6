import type { Migration } from "@sluice/database";

/**
 * The event store's tables and its append function. Plain SQL that PGlite and a PostgreSQL
 * server (13 or later: xid8, pg_current_xact_id) run the same way.
 */
export const eventStoreMigrations: readonly Migration[] = [
  {
    id: "event-store/001-init",
    sql: /* sql */ `
      create table event_streams (
        stream_id text primary key,
        organization_id text not null,
        stream_type text not null,
        version bigint not null default 0
      );

      create table events (
        global_position bigserial primary key,
        -- Readers order the log by the appending transaction, and never read past one still open.
        transaction_id xid8 not null default pg_current_xact_id(),
        organization_id text not null,
        stream_id text not null,
        stream_type text not null,
        stream_version bigint not null,
        event_id uuid not null default gen_random_uuid(),
        type text not null,
        data jsonb not null,
        metadata jsonb not null,
        occurred_at timestamptz not null default now(),
        unique (stream_id, stream_version)
      );
      create index events_log_order on events (transaction_id, global_position);

      -- What each command returned, so that a retry gets the same answer and appends nothing.
      create table command_results (
        organization_id text not null,
        command_id text not null,
        result_type text not null,
        result jsonb not null,
        recorded_at timestamptz not null default now(),
        primary key (organization_id, command_id)
      );

      create table consumer_checkpoints (
        name text primary key,
        transaction_id xid8 not null,
        global_position bigint not null,
        updated_at timestamptz not null default now()
      );

      -- One call, one round trip, one transaction, for every stream of a command. Raises
      -- SLDUP when the command id was handled already, SL409 when a stream is not at its expected
      -- version, SL403 when the stream id belongs to another organization, SLTYP when the stream is
      -- of another type; each rolls back everything.
      create function append_events(
        p_organization_id text,
        p_command_id text,
        p_result_type text,
        p_result jsonb,
        p_metadata jsonb,
        p_streams jsonb, -- [{streamId, streamType, expected: "any" | "no_stream" | "stream_exists" | "<n>", eventCount}]
        p_events jsonb   -- [{streamId, type, data}] in the order they happened
      ) returns jsonb
      language plpgsql as $$
      declare
        s record;
        current_version bigint;
        owner text;
        recorded_type text;
        at_expected boolean;
        bases jsonb := '{}';
        versions jsonb := '{}';
        last_position bigint;
      begin
        insert into command_results (organization_id, command_id, result_type, result)
        values (p_organization_id, p_command_id, p_result_type, p_result)
        on conflict do nothing;
        if not found then
          raise exception using errcode = 'SLDUP', message = 'command already handled', detail = p_command_id;
        end if;

        -- In stream id order, so that two commands over the same streams lock them in the same order.
        for s in
          select * from jsonb_to_recordset(p_streams)
            as x("streamId" text, "streamType" text, expected text, "eventCount" bigint)
          order by "streamId"
        loop
          insert into event_streams (stream_id, organization_id, stream_type)
          values (s."streamId", p_organization_id, s."streamType")
          on conflict do nothing;
          select version, organization_id, stream_type into current_version, owner, recorded_type
          from event_streams where stream_id = s."streamId" for update;
          if owner <> p_organization_id then
            raise exception using errcode = 'SL403', message = 'stream id taken', detail = s."streamId";
          end if;
          -- An id of one kind of aggregate used for another: its events would fold into nonsense.
          if recorded_type <> s."streamType" then
            raise exception using errcode = 'SLTYP', message = 'stream of another type',
              detail = jsonb_build_object('streamId', s."streamId", 'recorded', recorded_type, 'requested', s."streamType")::text;
          end if;
          at_expected := case s.expected
            when 'any' then true
            when 'no_stream' then current_version = 0
            when 'stream_exists' then current_version > 0
            else current_version = s.expected::bigint
          end;
          if not at_expected then
            raise exception using errcode = 'SL409', message = 'version conflict',
              detail = jsonb_build_object('streamId', s."streamId", 'expected', s.expected, 'actual', current_version::text)::text;
          end if;
          bases := bases || jsonb_build_object(s."streamId", current_version::text);
          versions := versions || jsonb_build_object(s."streamId", (current_version + s."eventCount")::text);
          update event_streams set version = current_version + s."eventCount" where stream_id = s."streamId";
        end loop;

        with inserted as (
          insert into events (organization_id, stream_id, stream_type, stream_version, type, data, metadata)
          select p_organization_id,
                 e.event->>'streamId',
                 st."streamType",
                 (bases->>(e.event->>'streamId'))::bigint
                   + row_number() over (partition by e.event->>'streamId' order by e.ordinal),
                 e.event->>'type',
                 e.event->'data',
                 p_metadata
          from jsonb_array_elements(p_events) with ordinality as e(event, ordinal)
          join jsonb_to_recordset(p_streams) as st("streamId" text, "streamType" text)
            on st."streamId" = e.event->>'streamId'
          order by e.ordinal
          returning global_position
        )
        select max(global_position) into last_position from inserted;

        return jsonb_build_object('versions', versions, 'lastGlobalPosition', coalesce(last_position, 0)::text);
      end;
      $$;
    `,
  },
  {
    id: "event-store/002-append-batch",
    sql: /* sql */ `
      -- Group commit: the appends of many commands in one statement and one transaction, with each
      -- command judged on its own, in order, as if appended alone: a later command in the batch sees
      -- the versions an earlier one left. Checks run on values locked up front; the writes are three
      -- set-based inserts, not a round of statements per command (on PGlite, ~5x cheaper per
      -- command at ten commands a batch). A command refused (SLDUP, SL409, SL403, SLTYP, as before)
      -- writes nothing and leaves the others' outcomes alone.
      --   p_commands: [{organizationId, commandId, resultType, result, metadata,
      --                 streams: [{streamId, streamType, expected: "any" | "no_stream" | "stream_exists" | "<n>", eventCount}],
      --                 events: [{streamId, type, data}] in the order they happened}]
      --   returns, per command in order: {versions: {streamId: "<n>"}, lastGlobalPosition: "<n>"}
      --                               or {error: {code, detail}}
      create function append_batch(p_commands jsonb) returns jsonb
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

        insert into event_streams (stream_id, organization_id, stream_type, version)
        select st->>'streamId', a->>'organizationId', st->>'streamType', (streams->(st->>'streamId')->>0)::bigint
        from jsonb_array_elements(accepted) a, jsonb_array_elements(a->'streams') st
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
          returning organization_id, metadata->>'commandId' as command_id, global_position
        )
        select coalesce(jsonb_object_agg(key, last), '{}') into positions
        from (select organization_id || '/' || command_id as key, max(global_position) as last from inserted group by 1) p;

        return (
          select jsonb_agg(
            case when o ? 'versions'
              then jsonb_build_object('versions', o->'versions', 'lastGlobalPosition', coalesce(positions->>(o->>'key'), '0'))
              else o
            end
            order by n)
          from jsonb_array_elements(outcomes) with ordinality as x(o, n)
        );
      end;
      $$;

      -- One way to append: a single command is a batch of one.
      drop function append_events(text, text, text, jsonb, jsonb, jsonb, jsonb);
    `,
  },
  {
    id: "event-store/003-snapshots",
    sql: /* sql */ `
      -- An aggregate's state at a version of its stream, so loading a long stream reads only what
      -- came after. A cache: deleting every row loses nothing. A snapshot whose snapshot_version
      -- is not the decider's current one is ignored, never misread.
      create table snapshots (
        stream_id text primary key,
        organization_id text not null,
        stream_version bigint not null,
        snapshot_version integer not null,
        state jsonb not null,
        taken_at timestamptz not null default now()
      );
    `,
  },
  {
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
  },
  {
    id: "event-store/005-data-subject-keys",
    sql: /* sql */ `
      -- Crypto-shredding (decision 0009): personal fields of events are sealed with a data key of
      -- their data subject, one per organization and subject, itself wrapped by the master key.
      -- Erasing a subject nulls its key: every field it sealed reads empty from then on. The row
      -- stays as a tombstone, so the subject's personal data is never written again.
      create table data_subject_keys (
        organization_id text not null,
        subject_id text not null,
        wrapped_key bytea,
        created_at timestamptz not null default now(),
        erased_at timestamptz,
        primary key (organization_id, subject_id),
        check ((wrapped_key is null) = (erased_at is not null))
      );

      -- One row: tells at start whether the master key given is the one the data keys were wrapped
      -- with (an HMAC of a fixed label under it), and holds the key itself when the embedded shape
      -- generated it rather than took it from the environment.
      create table personal_data_master_key (
        id smallint primary key default 1 check (id = 1),
        key_check bytea not null,
        generated_key bytea,
        created_at timestamptz not null default now()
      );
    `,
  },
  {
    id: "event-store/007-closed-streams",
    sql: /* sql */ `
      -- Closed streams (a completed route) take no more events; archived ones have had their events
      -- moved out of the hot table, into archived_events, by archiveClosedStreams. The archive is
      -- part of the log: readStream and readAll read both tables, and an event keeps its place
      -- (transaction id, global position), so archiving never changes what a reader reads.
      alter table event_streams add column closed_at timestamptz, add column archived_at timestamptz;
      create index event_streams_to_archive on event_streams (closed_at)
        where closed_at is not null and archived_at is null;

      create table archived_events (like events);
      alter table archived_events add primary key (global_position), add unique (stream_id, stream_version);
      create index archived_events_log_order on archived_events (transaction_id, global_position);

      -- As 004 (copied whole), plus closing: a stream of a command may say {close: true}, which
      -- closes it once the command's events are in; a later command adding events to a closed
      -- stream is refused with SLCLS (detail: the stream id), in a batch that command alone.
      --   p_commands: as 002, with streams: [{..., close?: boolean}]
      create or replace function append_batch(p_commands jsonb) returns jsonb
      language plpgsql as $$
      declare
        -- Each stream the batch names, as stored and then as the accepted commands leave it:
        -- {streamId: [version, organization, type, closed]}.
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
        select coalesce(jsonb_object_agg(stream_id, jsonb_build_array(version, organization_id, stream_type, closed_at is not null)), '{}')
        into streams
        from (
          select stream_id, version, organization_id, stream_type, closed_at from event_streams
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
              entry := coalesce(seen->(s->>'streamId'), jsonb_build_array(0, c->>'organizationId', s->>'streamType', false));
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
              -- Closed: no more events. An empty append (a version guard, or closing again) still goes.
              elsif (entry->>3)::boolean and (s->>'eventCount')::bigint > 0 then
                failure := jsonb_build_object('code', 'SLCLS', 'detail', s->>'streamId');
              elsif not at_expected then
                failure := jsonb_build_object('code', 'SL409', 'detail', jsonb_build_object(
                  'streamId', s->>'streamId', 'expected', s->>'expected', 'actual', current_version::text)::text);
              end if;
              exit when failure is not null;
              bases := bases || jsonb_build_object(s->>'streamId', current_version);
              versions := versions || jsonb_build_object(s->>'streamId', (current_version + (s->>'eventCount')::bigint)::text);
              seen := seen || jsonb_build_object(s->>'streamId', jsonb_build_array(
                current_version + (s->>'eventCount')::bigint, c->>'organizationId', s->>'streamType',
                (entry->>3)::boolean or coalesce((s->>'close')::boolean, false)));
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
        insert into event_streams (stream_id, organization_id, stream_type, version, closed_at)
        select distinct on (st->>'streamId')
               st->>'streamId', a->>'organizationId', st->>'streamType', (streams->(st->>'streamId')->>0)::bigint,
               case when (streams->(st->>'streamId')->>3)::boolean then now() end
        from jsonb_array_elements(accepted) a, jsonb_array_elements(a->'streams') st
        order by st->>'streamId'
        on conflict (stream_id) do update
          set version = excluded.version, closed_at = coalesce(event_streams.closed_at, excluded.closed_at);

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
  },
  {
    id: "event-store/008-append-commands",
    sql: /* sql */ `
      -- Group commit's one statement, with typed arrays instead of one JSON document: a batch of
      -- commands, each judged on its own and in order as if appended alone (a later command sees
      -- the versions an earlier one left), each refused one (SLDUP, SL403, SLTYP, SLCLS, SL409)
      -- writing nothing. The checks run over values locked up front, in plain arrays; the writes are
      -- three set-based inserts. Replaces append_batch (002, 004, 007), which built and parsed JSON
      -- per command and stream: about half the cost of a single-event append on a server.
      --   commands, 1..n:  c_organization, c_command, c_result_type; c_results and c_metadata are
      --                    JSON arrays, element i-1 for command i.
      --   streams, 1..m:   s_command (its command, ascending), s_stream (ascending within a
      --                    command), s_type, s_expected ('any' | 'no_stream' | 'stream_exists' |
      --                    '<n>'), s_count (its events), s_close.
      --   events, 1..k:    e_entry (its stream, an index into s_*), e_type; e_data a JSON array;
      --                    in the order each command gave them, commands in order.
      -- Returns one row: per command a refusal code and detail (null when accepted); per stream the
      -- version it is left at (null for a refused command); per accepted event, in order, its
      -- global position and id; the transaction and the time.
      create function append_commands(
        c_organization text[], c_command text[], c_result_type text[], c_results jsonb, c_metadata jsonb,
        s_command int[], s_stream text[], s_type text[], s_expected text[], s_count int[], s_close boolean[],
        e_entry int[], e_type text[], e_data jsonb,
        out codes text[], out details text[], out versions bigint[],
        out positions bigint[], out event_ids uuid[], out transaction_id xid8, out occurred_at timestamptz
      )
      language plpgsql
      -- Its plans are made once per connection and kept, often while the tables are still small,
      -- where a scan of a whole table or a hash join looks cheapest; kept, such a plan makes every
      -- append dearer with every command ever recorded. Index lookups are right at any size.
      set enable_seqscan = off
      set enable_hashjoin = off
      set enable_mergejoin = off
      as $$
      declare
        -- Every stream the batch names as stored (locked), then as the accepted commands leave it.
        ids text[];
        ver bigint[];
        org text[];
        typ text[];
        closed boolean[];
        handled text[];
        accepted boolean[];
        bases bigint[];
        slot int[];
        touched boolean[];
        known int;
        n int := coalesce(array_length(c_command, 1), 0);
        j int := 1;
        first_stream int;
        k int;
        current_version bigint;
        code text;
        detail text;
      begin
        -- One statement for both lookups. Streams are locked in id order, so that two batches over
        -- the same streams take them in the same order. Command ids are looked up pair by pair.
        select l.ids, l.ver, l.org, l.typ, l.closed, h.handled
        into ids, ver, org, typ, closed, handled
        from (
          select coalesce(array_agg(stream_id order by stream_id), '{}') as ids,
                 coalesce(array_agg(version order by stream_id), '{}') as ver,
                 coalesce(array_agg(organization_id order by stream_id), '{}') as org,
                 coalesce(array_agg(stream_type order by stream_id), '{}') as typ,
                 coalesce(array_agg(closed_at is not null order by stream_id), '{}') as closed
          from (select * from event_streams where stream_id = any(s_stream) order by stream_id for update) locked
        ) l, (
          select coalesce(array_agg(r.organization_id || '/' || r.command_id), '{}') as handled
          from unnest(c_organization, c_command) as batch (organization_id, command_id)
          join command_results r using (organization_id, command_id)
        ) h;

        codes := array_fill(null::text, array[n]);
        details := codes;
        accepted := array_fill(false, array[n]);
        versions := array_fill(null::bigint, array[coalesce(array_length(s_stream, 1), 0)]);
        bases := versions;
        slot := array_fill(null::int, array[coalesce(array_length(s_stream, 1), 0)]);
        touched := array_fill(false, array[coalesce(array_length(ids, 1), 0) + coalesce(array_length(s_stream, 1), 0)]);

        for i in 1 .. n loop
          code := null;
          first_stream := j;
          known := coalesce(array_length(ids, 1), 0);
          if (c_organization[i] || '/' || c_command[i]) = any(handled) then
            code := 'SLDUP';
            detail := c_command[i];
          end if;
          while j <= coalesce(array_length(s_command, 1), 0) and s_command[j] = i loop
            if code is null then
              k := array_position(ids, s_stream[j]);
              if k is null then
                -- Not stored yet: it starts empty, in this command's organization, of its type.
                ids := ids || s_stream[j];
                ver := ver || 0::bigint;
                org := org || c_organization[i];
                typ := typ || s_type[j];
                closed := closed || false;
                k := array_length(ids, 1);
              end if;
              slot[j] := k;
              current_version := ver[k];
              if org[k] <> c_organization[i] then
                code := 'SL403';
                detail := s_stream[j];
              -- An id of one kind of aggregate used for another: its events would fold into nonsense.
              elsif typ[k] <> s_type[j] then
                code := 'SLTYP';
                detail := json_build_object('streamId', s_stream[j], 'recorded', typ[k], 'requested', s_type[j])::text;
              -- Closed: no more events. An empty append (a version guard, or closing again) still goes.
              elsif closed[k] and s_count[j] > 0 then
                code := 'SLCLS';
                detail := s_stream[j];
              elsif not (case s_expected[j]
                  when 'any' then true
                  when 'no_stream' then current_version = 0
                  when 'stream_exists' then current_version > 0
                  else current_version = s_expected[j]::bigint
                end) then
                code := 'SL409';
                detail := json_build_object('streamId', s_stream[j], 'expected', s_expected[j], 'actual', current_version::text)::text;
              end if;
              bases[j] := current_version;
            end if;
            j := j + 1;
          end loop;
          if code is null then
            -- Accepted: its streams move on, and are written.
            for x in first_stream .. j - 1 loop
              ver[slot[x]] := bases[x] + s_count[x];
              closed[slot[x]] := closed[slot[x]] or s_close[x];
              touched[slot[x]] := true;
              versions[x] := ver[slot[x]];
            end loop;
            -- The same command twice in one batch: the second is a retry of the first.
            handled := handled || (c_organization[i] || '/' || c_command[i]);
            accepted[i] := true;
          else
            codes[i] := code;
            details[i] := detail;
            -- Streams it named first are new again for a later command of the batch.
            ids := ids[1:known];
            ver := ver[1:known];
            org := org[1:known];
            typ := typ[1:known];
            closed := closed[1:known];
          end if;
        end loop;

        transaction_id := pg_current_xact_id();
        occurred_at := now();
        if not (true = any(accepted)) then
          return;
        end if;

        -- The writes as one statement: each insert reads only the arguments, not another's rows.
        with results as (
          insert into command_results (organization_id, command_id, result_type, result)
          select c_organization[i], c_command[i], c_result_type[i], c_results->(i - 1)
          from generate_subscripts(c_command, 1) i
          where accepted[i]
        ), streams as (
          -- Once per stream, as the batch leaves it: commands of one batch often name the same one
          -- (a project each order guards), and an insert may not update a row twice.
          insert into event_streams (stream_id, organization_id, stream_type, version, closed_at)
          select ids[x], org[x], typ[x], ver[x], case when closed[x] then now() end
          from generate_subscripts(ids, 1) x
          where touched[x]
          order by ids[x]
          on conflict (stream_id) do update
            set version = excluded.version, closed_at = coalesce(event_streams.closed_at, excluded.closed_at)
        ), inserted as (
          insert into events (organization_id, stream_id, stream_type, stream_version, type, data, metadata)
          select c_organization[s_command[e.entry]], s_stream[e.entry], s_type[e.entry],
                 bases[e.entry] + row_number() over (partition by e.entry order by e.n),
                 e.type, e_data->(e.n::int - 1), c_metadata->(s_command[e.entry] - 1)
          from unnest(e_entry, e_type) with ordinality as e(entry, type, n)
          where accepted[s_command[e.entry]]
          order by e.n
          returning global_position, event_id
        )
        select array_agg(i.global_position order by i.global_position), array_agg(i.event_id order by i.global_position)
        into positions, event_ids
        from inserted i;
      end;
      $$;

      drop function append_batch(jsonb);
    `,
  },
  {
    id: "event-store/009-append-commands-lean",
    sql: /* sql */ `
      -- append_commands (008) as it was, made cheaper to call, a single append above all
      -- (docs/decisions/0007-lean-append.md): its statements run on plans made once per
      -- connection instead of planned again on every call, and the locked streams are read
      -- without a sort per array.
      create or replace function append_commands(
        c_organization text[], c_command text[], c_result_type text[], c_results jsonb, c_metadata jsonb,
        s_command int[], s_stream text[], s_type text[], s_expected text[], s_count int[], s_close boolean[],
        e_entry int[], e_type text[], e_data jsonb,
        out codes text[], out details text[], out versions bigint[],
        out positions bigint[], out event_ids uuid[], out transaction_id xid8, out occurred_at timestamptz
      )
      language plpgsql
      -- One plan per statement and connection, made once and reused: the generic plan. Left to
      -- choose, PL/pgSQL planned every statement again on every call (a custom plan for the batch's
      -- arrays, which it kept preferring because its estimate for them is smaller), and that
      -- planning was half of a single append's server time.
      set plan_cache_mode = force_generic_plan
      -- Made once, often while the tables are still small, where a scan of a whole table or a hash
      -- join looks cheapest; kept, such a plan makes every append dearer with every command ever
      -- recorded. Index lookups are right at any size; plain index scans read the streams in id
      -- order, so they are locked in that order without a sort.
      set enable_seqscan = off
      set enable_bitmapscan = off
      set enable_hashjoin = off
      set enable_mergejoin = off
      as $$
      declare
        -- Every stream the batch names as stored (locked), then as the accepted commands leave it.
        ids text[];
        ver bigint[];
        org text[];
        typ text[];
        closed boolean[];
        handled text[];
        accepted boolean[];
        bases bigint[];
        slot int[];
        touched boolean[];
        known int;
        n int := coalesce(array_length(c_command, 1), 0);
        j int := 1;
        first_stream int;
        k int;
        current_version bigint;
        code text;
        detail text;
      begin
        -- One statement for both lookups. Streams are locked in id order, so that two batches over
        -- the same streams take them in the same order. Command ids are looked up pair by pair.
        select l.ids, l.ver, l.org, l.typ, l.closed, h.handled
        into ids, ver, org, typ, closed, handled
        from (
          -- One aggregation: each row goes to every array in turn, so they stay aligned without a
          -- sort each (the order among streams matters nowhere but in locking).
          select coalesce(array_agg(stream_id), '{}') as ids,
                 coalesce(array_agg(version), '{}') as ver,
                 coalesce(array_agg(organization_id), '{}') as org,
                 coalesce(array_agg(stream_type), '{}') as typ,
                 coalesce(array_agg(closed_at is not null), '{}') as closed
          from (select * from event_streams where stream_id = any(s_stream) order by stream_id for update) locked
        ) l, (
          select coalesce(array_agg(r.organization_id || '/' || r.command_id), '{}') as handled
          from unnest(c_organization, c_command) as batch (organization_id, command_id)
          join command_results r using (organization_id, command_id)
        ) h;

        codes := array_fill(null::text, array[n]);
        details := codes;
        accepted := array_fill(false, array[n]);
        versions := array_fill(null::bigint, array[coalesce(array_length(s_stream, 1), 0)]);
        bases := versions;
        slot := array_fill(null::int, array[coalesce(array_length(s_stream, 1), 0)]);
        touched := array_fill(false, array[coalesce(array_length(ids, 1), 0) + coalesce(array_length(s_stream, 1), 0)]);

        for i in 1 .. n loop
          code := null;
          first_stream := j;
          known := coalesce(array_length(ids, 1), 0);
          if (c_organization[i] || '/' || c_command[i]) = any(handled) then
            code := 'SLDUP';
            detail := c_command[i];
          end if;
          while j <= coalesce(array_length(s_command, 1), 0) and s_command[j] = i loop
            if code is null then
              k := array_position(ids, s_stream[j]);
              if k is null then
                -- Not stored yet: it starts empty, in this command's organization, of its type.
                ids := ids || s_stream[j];
                ver := ver || 0::bigint;
                org := org || c_organization[i];
                typ := typ || s_type[j];
                closed := closed || false;
                k := array_length(ids, 1);
              end if;
              slot[j] := k;
              current_version := ver[k];
              if org[k] <> c_organization[i] then
                code := 'SL403';
                detail := s_stream[j];
              -- An id of one kind of aggregate used for another: its events would fold into nonsense.
              elsif typ[k] <> s_type[j] then
                code := 'SLTYP';
                detail := json_build_object('streamId', s_stream[j], 'recorded', typ[k], 'requested', s_type[j])::text;
              -- Closed: no more events. An empty append (a version guard, or closing again) still goes.
              elsif closed[k] and s_count[j] > 0 then
                code := 'SLCLS';
                detail := s_stream[j];
              elsif not (case s_expected[j]
                  when 'any' then true
                  when 'no_stream' then current_version = 0
                  when 'stream_exists' then current_version > 0
                  else current_version = s_expected[j]::bigint
                end) then
                code := 'SL409';
                detail := json_build_object('streamId', s_stream[j], 'expected', s_expected[j], 'actual', current_version::text)::text;
              end if;
              bases[j] := current_version;
            end if;
            j := j + 1;
          end loop;
          if code is null then
            -- Accepted: its streams move on, and are written.
            for x in first_stream .. j - 1 loop
              ver[slot[x]] := bases[x] + s_count[x];
              closed[slot[x]] := closed[slot[x]] or s_close[x];
              touched[slot[x]] := true;
              versions[x] := ver[slot[x]];
            end loop;
            -- The same command twice in one batch: the second is a retry of the first.
            handled := handled || (c_organization[i] || '/' || c_command[i]);
            accepted[i] := true;
          else
            codes[i] := code;
            details[i] := detail;
            -- Streams it named first are new again for a later command of the batch.
            ids := ids[1:known];
            ver := ver[1:known];
            org := org[1:known];
            typ := typ[1:known];
            closed := closed[1:known];
          end if;
        end loop;

        transaction_id := pg_current_xact_id();
        occurred_at := now();
        if not (true = any(accepted)) then
          return;
        end if;

        -- The writes as one statement: each insert reads only the arguments, not another's rows.
        with results as (
          insert into command_results (organization_id, command_id, result_type, result)
          select c_organization[i], c_command[i], c_result_type[i], c_results->(i - 1)
          from generate_subscripts(c_command, 1) i
          where accepted[i]
        ), streams as (
          -- Once per stream, as the batch leaves it: commands of one batch often name the same one
          -- (a project each order guards), and an insert may not update a row twice.
          insert into event_streams (stream_id, organization_id, stream_type, version, closed_at)
          select ids[x], org[x], typ[x], ver[x], case when closed[x] then now() end
          from generate_subscripts(ids, 1) x
          where touched[x]
          order by ids[x]
          on conflict (stream_id) do update
            set version = excluded.version, closed_at = coalesce(event_streams.closed_at, excluded.closed_at)
        ), inserted as (
          insert into events (organization_id, stream_id, stream_type, stream_version, type, data, metadata)
          select c_organization[s_command[e.entry]], s_stream[e.entry], s_type[e.entry],
                 bases[e.entry] + row_number() over (partition by e.entry order by e.n),
                 e.type, e_data->(e.n::int - 1), c_metadata->(s_command[e.entry] - 1)
          from unnest(e_entry, e_type) with ordinality as e(entry, type, n)
          where accepted[s_command[e.entry]]
          order by e.n
          returning global_position, event_id
        )
        select array_agg(i.global_position order by i.global_position), array_agg(i.event_id order by i.global_position)
        into positions, event_ids
        from inserted i;
      end;
      $$;
    `,
  },
  {
    id: "event-store/010-append-commands-keys",
    sql: /* sql */ `
      -- append_commands (009) taking the batch's new data keys as well (decision 0014): a new
      -- subject's key is stored by the append's own statement, so an order's first append is one
      -- round trip, not BEGIN, the key, the append and COMMIT.
      drop function append_commands(
        text[], text[], text[], jsonb, jsonb, int[], text[], text[], text[], int[], boolean[], int[], text[], jsonb
      );
      create function append_commands(
        c_organization text[], c_command text[], c_result_type text[], c_results jsonb, c_metadata jsonb,
        s_command int[], s_stream text[], s_type text[], s_expected text[], s_count int[], s_close boolean[],
        e_entry int[], e_type text[], e_data jsonb,
        k_organization text[], k_subject text[], k_wrapped text[],
        out codes text[], out details text[], out versions bigint[],
        out positions bigint[], out event_ids uuid[], out transaction_id xid8, out occurred_at timestamptz,
        out stored_keys jsonb
      )
      language plpgsql
      -- One plan per statement and connection, made once and reused: the generic plan. Left to
      -- choose, PL/pgSQL planned every statement again on every call (a custom plan for the batch's
      -- arrays, which it kept preferring because its estimate for them is smaller), and that
      -- planning was half of a single append's server time.
      set plan_cache_mode = force_generic_plan
      -- Made once, often while the tables are still small, where a scan of a whole table or a hash
      -- join looks cheapest; kept, such a plan makes every append dearer with every command ever
      -- recorded. Index lookups are right at any size; plain index scans read the streams in id
      -- order, so they are locked in that order without a sort.
      set enable_seqscan = off
      set enable_bitmapscan = off
      set enable_hashjoin = off
      set enable_mergejoin = off
      as $$
      declare
        -- Every stream the batch names as stored (locked), then as the accepted commands leave it.
        ids text[];
        ver bigint[];
        org text[];
        typ text[];
        closed boolean[];
        handled text[];
        accepted boolean[];
        bases bigint[];
        slot int[];
        touched boolean[];
        known int;
        n int := coalesce(array_length(c_command, 1), 0);
        j int := 1;
        first_stream int;
        k int;
        current_version bigint;
        code text;
        detail text;
        keys_stored bigint;
      begin
        -- New data subjects' keys (decision 0009), proposed by the caller, who sealed the batch's
        -- personal data under them: stored with the append, in its transaction. Where a subject has
        -- a key already (another writer's, or one this caller no longer had cached, or erased), the
        -- batch was sealed under a key that is not the subject's: nothing is appended, and the
        -- subjects' stored keys go back (null once erased) for the caller to seal again and resend.
        if cardinality(k_subject) > 0 then
          insert into data_subject_keys (organization_id, subject_id, wrapped_key)
          select k.organization_id, k.subject_id, decode(k.wrapped_key, 'base64')
          from unnest(k_organization, k_subject, k_wrapped) as k(organization_id, subject_id, wrapped_key)
          on conflict do nothing;
          get diagnostics keys_stored = row_count;
          if keys_stored < cardinality(k_subject) then
            -- A statement of its own: its snapshot sees the key of a writer the insert waited for.
            select jsonb_agg(jsonb_build_object('organization_id', k.organization_id, 'subject_id', k.subject_id,
                                                'wrapped_key', encode(k.wrapped_key, 'base64')))
            into stored_keys
            from unnest(k_organization, k_subject) as a(organization_id, subject_id)
            join data_subject_keys k using (organization_id, subject_id);
            codes := array_fill(null::text, array[coalesce(array_length(c_command, 1), 0)]);
            details := codes;
            transaction_id := pg_current_xact_id();
            occurred_at := now();
            return;
          end if;
        end if;

        -- One statement for both lookups. Streams are locked in id order, so that two batches over
        -- the same streams take them in the same order. Command ids are looked up pair by pair.
        select l.ids, l.ver, l.org, l.typ, l.closed, h.handled
        into ids, ver, org, typ, closed, handled
        from (
          -- One aggregation: each row goes to every array in turn, so they stay aligned without a
          -- sort each (the order among streams matters nowhere but in locking).
          select coalesce(array_agg(stream_id), '{}') as ids,
                 coalesce(array_agg(version), '{}') as ver,
                 coalesce(array_agg(organization_id), '{}') as org,
                 coalesce(array_agg(stream_type), '{}') as typ,
                 coalesce(array_agg(closed_at is not null), '{}') as closed
          from (select * from event_streams where stream_id = any(s_stream) order by stream_id for update) locked
        ) l, (
          select coalesce(array_agg(r.organization_id || '/' || r.command_id), '{}') as handled
          from unnest(c_organization, c_command) as batch (organization_id, command_id)
          join command_results r using (organization_id, command_id)
        ) h;

        codes := array_fill(null::text, array[n]);
        details := codes;
        accepted := array_fill(false, array[n]);
        versions := array_fill(null::bigint, array[coalesce(array_length(s_stream, 1), 0)]);
        bases := versions;
        slot := array_fill(null::int, array[coalesce(array_length(s_stream, 1), 0)]);
        touched := array_fill(false, array[coalesce(array_length(ids, 1), 0) + coalesce(array_length(s_stream, 1), 0)]);

        for i in 1 .. n loop
          code := null;
          first_stream := j;
          known := coalesce(array_length(ids, 1), 0);
          if (c_organization[i] || '/' || c_command[i]) = any(handled) then
            code := 'SLDUP';
            detail := c_command[i];
          end if;
          while j <= coalesce(array_length(s_command, 1), 0) and s_command[j] = i loop
            if code is null then
              k := array_position(ids, s_stream[j]);
              if k is null then
                -- Not stored yet: it starts empty, in this command's organization, of its type.
                ids := ids || s_stream[j];
                ver := ver || 0::bigint;
                org := org || c_organization[i];
                typ := typ || s_type[j];
                closed := closed || false;
                k := array_length(ids, 1);
              end if;
              slot[j] := k;
              current_version := ver[k];
              if org[k] <> c_organization[i] then
                code := 'SL403';
                detail := s_stream[j];
              -- An id of one kind of aggregate used for another: its events would fold into nonsense.
              elsif typ[k] <> s_type[j] then
                code := 'SLTYP';
                detail := json_build_object('streamId', s_stream[j], 'recorded', typ[k], 'requested', s_type[j])::text;
              -- Closed: no more events. An empty append (a version guard, or closing again) still goes.
              elsif closed[k] and s_count[j] > 0 then
                code := 'SLCLS';
                detail := s_stream[j];
              elsif not (case s_expected[j]
                  when 'any' then true
                  when 'no_stream' then current_version = 0
                  when 'stream_exists' then current_version > 0
                  else current_version = s_expected[j]::bigint
                end) then
                code := 'SL409';
                detail := json_build_object('streamId', s_stream[j], 'expected', s_expected[j], 'actual', current_version::text)::text;
              end if;
              bases[j] := current_version;
            end if;
            j := j + 1;
          end loop;
          if code is null then
            -- Accepted: its streams move on, and are written.
            for x in first_stream .. j - 1 loop
              ver[slot[x]] := bases[x] + s_count[x];
              closed[slot[x]] := closed[slot[x]] or s_close[x];
              touched[slot[x]] := true;
              versions[x] := ver[slot[x]];
            end loop;
            -- The same command twice in one batch: the second is a retry of the first.
            handled := handled || (c_organization[i] || '/' || c_command[i]);
            accepted[i] := true;
          else
            codes[i] := code;
            details[i] := detail;
            -- Streams it named first are new again for a later command of the batch.
            ids := ids[1:known];
            ver := ver[1:known];
            org := org[1:known];
            typ := typ[1:known];
            closed := closed[1:known];
          end if;
        end loop;

        transaction_id := pg_current_xact_id();
        occurred_at := now();
        if not (true = any(accepted)) then
          return;
        end if;

        -- The writes as one statement: each insert reads only the arguments, not another's rows.
        with results as (
          insert into command_results (organization_id, command_id, result_type, result)
          select c_organization[i], c_command[i], c_result_type[i], c_results->(i - 1)
          from generate_subscripts(c_command, 1) i
          where accepted[i]
        ), streams as (
          -- Once per stream, as the batch leaves it: commands of one batch often name the same one
          -- (a project each order guards), and an insert may not update a row twice.
          insert into event_streams (stream_id, organization_id, stream_type, version, closed_at)
          select ids[x], org[x], typ[x], ver[x], case when closed[x] then now() end
          from generate_subscripts(ids, 1) x
          where touched[x]
          order by ids[x]
          on conflict (stream_id) do update
            set version = excluded.version, closed_at = coalesce(event_streams.closed_at, excluded.closed_at)
        ), inserted as (
          insert into events (organization_id, stream_id, stream_type, stream_version, type, data, metadata)
          select c_organization[s_command[e.entry]], s_stream[e.entry], s_type[e.entry],
                 bases[e.entry] + row_number() over (partition by e.entry order by e.n),
                 e.type, e_data->(e.n::int - 1), c_metadata->(s_command[e.entry] - 1)
          from unnest(e_entry, e_type) with ordinality as e(entry, type, n)
          where accepted[s_command[e.entry]]
          order by e.n
          returning global_position, event_id
        )
        select array_agg(i.global_position order by i.global_position), array_agg(i.event_id order by i.global_position)
        into positions, event_ids
        from inserted i;
      end;
      $$;
    `,
  },
];
