import { ConfigError, loadConfig } from '../config.ts';
import { CopyRefusedError, copyDatabase } from '../storage/copy-database.ts';
import { openDatabase } from '../storage/database.ts';

// `npm run export-db -- --to postgres://…`: moves the embedded database (BANLI_DATA_DIR) into an empty PostgreSQL
// database, all or nothing. The service must be stopped first: the embedded database admits one process.

const USAGE = '用法：npm run export-db -- --to postgres://用户@主机:5432/数据库名   （先停止服务；目标须是新建的空数据库）';

async function run(argv: string[]): Promise<number> {
  const at = argv.indexOf('--to');
  const to = at >= 0 ? argv[at + 1] : undefined;
  const extra = argv.filter((a, i) => i !== at && i !== at + 1);
  if (!to || !/^postgres(ql)?:\/\//.test(to) || extra.length > 0) {
    console.error(USAGE);
    return 2;
  }
  const config = loadConfig();
  const source = await openDatabase({ dataDir: config.dataDir });
  try {
    const target = await openDatabase({ url: to, poolSize: 2 });
    try {
      console.log(`正在把 ${config.dataDir} 中的内置数据库复制到 PostgreSQL…`);
      const { tables } = await copyDatabase(source.db, target.db, (table, rows) => console.log(`  ${table}：${rows} 行`));
      const total = tables.reduce((n, t) => n + t.rows, 0);
      console.log(`已完成：${tables.length} 张表，共 ${total} 行。把 DATABASE_URL 设为目标数据库后启动服务即可；原数据目录未改动，可留作备份。`);
      return 0;
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}

try {
  process.exitCode = await run(process.argv.slice(2));
} catch (err) {
  const known = err instanceof ConfigError || err instanceof CopyRefusedError;
  console.error(known ? (err as Error).message : `导出失败，目标数据库未写入任何数据：${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = err instanceof ConfigError ? 2 : 1;
}
