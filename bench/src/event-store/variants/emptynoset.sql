create function append_commands_emptynoset(
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
    
    as $$
begin
  transaction_id := pg_current_xact_id();
  occurred_at := now();
end;
$$;
