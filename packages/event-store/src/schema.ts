import type { Migration } from "@sluice/database";
import { init } from "./migrations/001-init";
import { appendBatch } from "./migrations/002-append-batch";
import { snapshots } from "./migrations/003-snapshots";
import { appendBatchReturnsEvents } from "./migrations/004-append-batch-returns-events";
import { dataSubjectKeys } from "./migrations/005-data-subject-keys";
import { closedStreams } from "./migrations/007-closed-streams";
import { appendCommands } from "./migrations/008-append-commands";
import { appendCommandsLean } from "./migrations/009-append-commands-lean";
import { appendCommandsKeys } from "./migrations/010-append-commands-keys";

/**
 * The event store's tables and its append function, one migration per file in the order they were
 * released. Plain SQL that PGlite and a PostgreSQL server (13 or later: xid8, pg_current_xact_id)
 * run the same way. A released migration never changes: a new one replaces what it must (the
 * append function as it is now is in the last file that creates it).
 */
export const eventStoreMigrations: readonly Migration[] = [
  init,
  appendBatch,
  snapshots,
  appendBatchReturnsEvents,
  dataSubjectKeys,
  closedStreams,
  appendCommands,
  appendCommandsLean,
  appendCommandsKeys,
];
