// What one round of the gateway's periodic session re-check costs: every open socket's session
// read again through liveSessions, 500 ids a query, as SourceGateway does every SESSION_RECHECK_MS.
//
//   npx tsx apps/server/scripts/session-recheck-cost.ts [sessions...]   (default 1000 10000)
//
// Runs on PGlite (embedded) and, when reachable, on PostgreSQL (scale-out), each database fresh.
import { migrate } from "@sluice/database";
import { testBackends } from "@sluice/database/testing";
import { identityMigrations } from "@sluice/identity";
import { liveSessions } from "../src/live-sessions";

const counts = process.argv.slice(2).map(Number);
const BATCH = 500;

for (const backend of await testBackends()) {
  if (backend.skip) {
    console.log(`${backend.name}: skipped (${backend.skip})`);
    continue;
  }
  for (const sessions of counts.length ? counts : [1000, 10_000]) {
    const db = await backend.open();
    await migrate(db, identityMigrations);
    await db.query(`INSERT INTO organizations (id, name) VALUES ('org', 'Org')`);
    // A thousand users, each with sessions/1000 of them, all live.
    await db.query(
      `INSERT INTO users (id, organization_id, email, display_name, password_hash)
       SELECT 'u' || i, 'org', 'u' || i || '@example.test', 'User ' || i, 'x' FROM generate_series(1, 1000) i`,
    );
    await db.query(
      `INSERT INTO memberships (organization_id, user_id, role) SELECT 'org', 'u' || i, 'dispatcher' FROM generate_series(1, 1000) i`,
    );
    await db.query(
      `INSERT INTO sessions (id, user_id, organization_id, created_at, last_used_at, expires_at)
       SELECT 's' || i, 'u' || (1 + i % 1000), 'org', now(), now(), now() + interval '1 day'
       FROM generate_series(1, $1::int) i`,
      [sessions],
    );
    await db.query("ANALYZE"); // as autovacuum would have by now
    const ids = Array.from({ length: sessions }, (_, i) => `s${i + 1}`);
    const check = liveSessions(db, Date.now);
    const round = async () => {
      let live = 0;
      for (let start = 0; start < ids.length; start += BATCH)
        live += (await check(ids.slice(start, start + BATCH))).size;
      if (live !== sessions) throw new Error(`expected ${sessions} live sessions, got ${live}`);
    };
    await round(); // warm up
    const rounds: number[] = [];
    for (let i = 0; i < 7; i++) {
      const cpuBefore = process.cpuUsage();
      const started = performance.now();
      await round();
      const cpu = process.cpuUsage(cpuBefore);
      rounds.push(performance.now() - started);
      if (i === 6) {
        const median = rounds.sort((a, b) => a - b)[3]!;
        console.log(
          `${backend.name}: ${sessions} sessions, one round (${Math.ceil(sessions / BATCH)} queries): ` +
            `median ${median.toFixed(1)} ms wall; last round ${((cpu.user + cpu.system) / 1000).toFixed(1)} ms CPU in this process`,
        );
      }
    }
    await db.close();
  }
}
