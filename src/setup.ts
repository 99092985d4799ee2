import type { Config } from './config.ts';
import { createWorkCalendar } from './domain/calendar.ts';
import { createClocks, type Clocks } from './domain/clocks.ts';
import { openDatabase, type Database } from './storage/database.ts';
import { migrateToLatest } from './storage/migrate.ts';

// What the service and every command-line tool need first: the clocks and the migrated database. Kept apart from
// runtime.ts so that a tool such as the importer does not load the Lark SDK, express and the rest of the service
// (seconds of start-up and tens of MB it would never use).

/** The clocks of the domain, from configuration. */
export function clocksFor(config: Config): Clocks {
  return createClocks(createWorkCalendar(config.calendarOverrides), config.clocks);
}

/** Opens the database for config and brings its schema up to date. */
export async function openMigrated(config: Config): Promise<Database> {
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, embeddedThread: config.embeddedThread, preparedStatements: config.preparedStatements });
  try {
    await migrateToLatest(database.db);
  } catch (err) {
    await database.close();
    throw err;
  }
  return database;
}
