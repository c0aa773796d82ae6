import type { Migration } from "@sluice/database";

export const init: Migration = {
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
};
