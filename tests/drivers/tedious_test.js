// Node tedious against hadrd; started by test_tedious.py, which starts the
// server and passes: TEDIOUS_PATH (the installed module), HADR_PORT,
// HADR_PASSWORD, and the cases of cases.py as JSON in the file argv[2].
//
// Steps: DDL, DML with row counts, transactions through tedious's
// transaction-manager requests (commit, rollback, seen from a second
// connection), parameters (sp_executesql, OUTPUT, sp_prepare/sp_execute),
// every column type read back (also at TDS 7.1 to 7.3.B) and written through
// typed parameters, errors with their numbers. Prints "FAIL ..." per failed
// check and a summary line; exits 1 on any failure.
'use strict';
const fs = require('fs');
const { Connection, Request, TYPES } = require(process.env.TEDIOUS_PATH);

const cases = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
let passed = 0, failed = 0;

function short(v) {
  const s = typeof v === 'string' ? v : JSON.stringify(v, (k, x) => (typeof x === 'bigint' ? x.toString() : x));
  return s && s.length > 160 ? s.slice(0, 80) + '...' + s.slice(-40) : s;
}
function check(cond, what) {
  if (cond) passed++;
  else { failed++; console.log('FAIL tedious: ' + what); }
  return cond;
}
function eq(got, want, what) {
  const g = short(got), w = short(want);
  return check(g === w, `${what}: got ${g}, want ${w}`);
}

function connect(database, tdsVersion) {
  return new Promise((resolve, reject) => {
    const c = new Connection({
      server: '127.0.0.1',
      authentication: { type: 'default', options: { userName: 'sa', password: process.env.HADR_PASSWORD } },
      // TLS is not offered yet; encrypt:false keeps tedious on plain TDS
      options: { port: Number(process.env.HADR_PORT), database, encrypt: false, useUTC: true,
                 connectTimeout: 15000, requestTimeout: 60000, tdsVersion: tdsVersion || '7_4' },
    });
    c.connect(err => (err ? reject(err) : resolve(c)));
  });
}

// Runs a request; resolves with { rows (arrays of values), rowCount, meta, outputs }.
function run(conn, sql, params, how) {
  return new Promise((resolve, reject) => {
    const rows = [], outputs = {};
    let meta = null;
    const req = new Request(sql, (err, rowCount) => (err ? reject(err) : resolve({ rows, rowCount, meta, outputs })));
    for (const p of params || []) {
      if (p.output) req.addOutputParameter(p.name, p.type, p.value, p.options);
      else req.addParameter(p.name, p.type, p.value, p.options);
    }
    req.on('columnMetadata', cols => { meta = cols; });
    req.on('row', cols => rows.push(cols.map(c => c.value)));
    req.on('returnValue', (name, value) => { outputs[name] = value; });
    if (how === 'batch') conn.execSqlBatch(req);
    else conn.execSql(req);
  });
}

const tm = (conn, op) => new Promise((resolve, reject) => conn[op](err => (err ? reject(err) : resolve())));

async function expectError(conn, sql, number, what) {
  try {
    await run(conn, sql);
    check(false, `${what}: no error, want ${number}`);
  } catch (e) {
    eq(e.number, number, `${what}: error number (${e.message})`);
    return e;
  }
  return null;
}

// ---- every column type

function pad(n, w) { return String(n).padStart(w, '0'); }

function canon(col, v) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' && ['date', 'time', 'datetime'].includes(col.kind)) return v;   // text before TDS 7.3
  const scale = col.scale;
  switch (col.kind) {
    case 'int': return typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
    case 'str': return v;
    case 'bin': return Buffer.from(v).toString('hex');
    case 'guid': return String(v).toUpperCase();
    case 'date': return `${pad(v.getUTCFullYear(), 4)}-${pad(v.getUTCMonth() + 1, 2)}-${pad(v.getUTCDate(), 2)}`;
    case 'time': case 'datetime': {
      // tedious keeps 100 ns: milliseconds in the Date, the rest in nanosecondsDelta (seconds)
      const ticks = v.getUTCMilliseconds() * 10000 + Math.round((v.nanosecondsDelta || 0) * 1e7);
      let t = `${pad(v.getUTCHours(), 2)}:${pad(v.getUTCMinutes(), 2)}:${pad(v.getUTCSeconds(), 2)}`;
      if (scale) t += '.' + pad(ticks, 7).slice(0, scale);
      return col.kind === 'time' ? t : `${canon({ kind: 'date' }, v)} ${t}`;
    }
    default: return v;   // dec/float/real: numbers, compared numerically
  }
}

function same(col, want, got) {
  if (want === null || got === null) return want === got;
  if (col.kind === 'dec' || col.kind === 'float' || col.kind === 'real') {
    // tedious returns decimal and money as JS numbers: equal to the nearest double
    return Number(want) === got;
  }
  return want === got;
}

const TYPE_OF = {
  bit: TYPES.Bit, tinyint: TYPES.TinyInt, smallint: TYPES.SmallInt, int: TYPES.Int, bigint: TYPES.BigInt,
  money: TYPES.Money, smallmoney: TYPES.SmallMoney, real: TYPES.Real, float: TYPES.Float, date: TYPES.Date,
  datetime: TYPES.DateTime, uniqueidentifier: TYPES.UniqueIdentifier,
};

// A typed parameter for a canonical value, or null when tedious cannot carry
// it exactly (the INSERT then uses the literal).
function param(col, text) {
  const m = /^(\w+)(?:\((\w+)(?:,(\d+))?\))?$/.exec(col.type);
  const base = m[1], arg = m[2], arg2 = m[3];
  const options = {};
  let type = TYPE_OF[base], value = text;
  const digits = text.replace(/[-.]/g, '').replace(/^0+/, '').length;
  switch (base) {
    case 'bit': value = text === '1'; break;
    case 'tinyint': case 'smallint': case 'int': value = Number(text); break;
    case 'bigint': value = text; break;      // tedious takes a string or a BigInt
    case 'decimal': case 'numeric':
      // tedious scales a JS number: exact only up to 15 significant digits
      if (digits > 15) return null;
      type = base === 'decimal' ? TYPES.Decimal : TYPES.Numeric;
      options.precision = Number(arg); options.scale = Number(arg2);
      value = Number(text);
      break;
    case 'money': case 'smallmoney':
      if (digits > 15) return null;
      value = Number(text);
      break;
    case 'real': case 'float': value = Number(text); break;
    case 'date': case 'time': case 'datetime': case 'datetime2': {
      const dm = /^(?:(\d+)-(\d+)-(\d+))? ?(?:(\d+):(\d+):(\d+)(?:\.(\d+))?)?$/.exec(text);
      const d = new Date(0);
      if (dm[1]) d.setUTCFullYear(Number(dm[1]), Number(dm[2]) - 1, Number(dm[3]));
      const frac = ((dm[7] || '') + '0000000').slice(0, 7);
      if (dm[4]) d.setUTCHours(Number(dm[4]), Number(dm[5]), Number(dm[6]), Number(frac.slice(0, 3)));
      if (base === 'time' || base === 'datetime2') {
        d.nanosecondDelta = Number(frac.slice(3)) / 1e7;
        options.scale = arg === undefined ? 7 : Number(arg);
        type = base === 'time' ? TYPES.Time : TYPES.DateTime2;
      }
      value = d;
      break;
    }
    case 'char': type = TYPES.Char; options.length = Number(arg); break;
    case 'varchar': type = TYPES.VarChar; options.length = arg === 'max' ? Infinity : Number(arg); break;
    case 'nchar': type = TYPES.NChar; options.length = Number(arg); break;
    case 'nvarchar': type = TYPES.NVarChar; options.length = arg === 'max' ? Infinity : Number(arg); break;
    case 'binary': type = TYPES.Binary; options.length = Number(arg); value = Buffer.from(text, 'hex'); break;
    case 'varbinary':
      type = TYPES.VarBinary; options.length = arg === 'max' ? Infinity : Number(arg);
      value = Buffer.from(text, 'hex');
      break;
    case 'uniqueidentifier': break;
    default: throw new Error('no tedious type for ' + col.type);
  }
  return { type, value, options };
}

// COLMETADATA as SQL Server sends it at 7.4: [type, length, precision, scale]
const META = {
  'bit': ['BitN', 1], 'tinyint': ['IntN', 1], 'smallint': ['IntN', 2], 'int': ['IntN', 4], 'bigint': ['IntN', 8],
  'decimal(9,2)': ['DecimalN', 5, 9, 2], 'numeric(19,4)': ['NumericN', 9, 19, 4],
  'decimal(28,6)': ['DecimalN', 13, 28, 6], 'decimal(38,10)': ['DecimalN', 17, 38, 10],
  'money': ['MoneyN', 8], 'smallmoney': ['MoneyN', 4], 'real': ['FloatN', 4], 'float': ['FloatN', 8],
  'date': ['Date'], 'time': ['Time', undefined, undefined, 7], 'time(0)': ['Time', undefined, undefined, 0],
  'datetime': ['DateTimeN', 8], 'datetime2': ['DateTime2', undefined, undefined, 7],
  'datetime2(3)': ['DateTime2', undefined, undefined, 3],
  'char(10)': ['Char', 10], 'varchar(50)': ['VarChar', 50], 'varchar(max)': ['VarChar', 65535],
  'nchar(10)': ['NChar', 20], 'nvarchar(100)': ['NVarChar', 200], 'nvarchar(max)': ['NVarChar', 65535],
  'binary(4)': ['Binary', 4], 'varbinary(50)': ['VarBinary', 50], 'varbinary(max)': ['VarBinary', 65535],
  'uniqueidentifier': ['UniqueIdentifier', 16],
};

async function typesRead(c, label) {
  const r = await run(c, cases.select_lit);
  eq(r.meta.map(m => m.colName), ['id', ...cases.columns.map(col => col.name)], label + 'types column names');
  if (!label) {
    eq(r.meta[0].flags & 1, 0, 'NOT NULL column is not nullable in COLMETADATA');
    cases.columns.forEach((col, i) => {
      const m = r.meta[i + 1];
      const want = [...(META[col.type] || ['?']), undefined, undefined, undefined].slice(0, 4);
      eq([m.type.name, m.dataLength, m.precision, m.scale], want, `${col.name} metadata`);
      eq(m.flags & 1, 1, `${col.name} nullable in COLMETADATA`);
    });
  }
  eq(r.rows.length, cases.rows, label + 'types row count');
  r.rows.forEach((row, ri) => {
    eq(row[0], ri + 1, label + 'types row id');
    cases.columns.forEach((col, i) => {
      const want = ri < 3 ? col.values[ri] : null;
      const got = canon(col, row[i + 1]);
      check(same(col, want, got), `${label}${col.name} row ${ri + 1}: got ${short(got)}, want ${short(want)}`);
    });
  });
}

async function typesCheck(c) {
  await run(c, cases.create_lit);
  await run(c, cases.create_par);
  const ins = await run(c, cases.insert_lit);
  eq(ins.rowCount, cases.rows, 'types INSERT row count');
  await typesRead(c, '');
  // older versions: date/time/datetime2 as text before 7.3, (max) as text/ntext/image at 7.1
  for (const v of ['7_1', '7_2', '7_3_A', '7_3_B']) {
    const old = await connect('drvtest', v);
    await typesRead(old, `TDS ${v}: `);
    old.close();
  }
  for (let ri = 0; ri < cases.rows; ri++) {
    const exprs = [], params = [];
    cases.columns.forEach((col, i) => {
      let p = param(col, col.values[Math.min(ri, 2)]);
      if (p && ri === 3) p = { ...p, value: null };   // the NULL row: a typed NULL
      if (!p) { exprs.push(ri < 3 ? col.literals[ri] : 'NULL'); return; }
      exprs.push('@p' + i);
      params.push({ name: 'p' + i, type: p.type, value: p.value, options: p.options });
    });
    const sql = `INSERT INTO types_par (id, ${cases.columns.map(col => col.name).join(', ')}) VALUES (${ri + 1}, ${exprs.join(', ')})`;
    const res = await run(c, sql, params);
    eq(res.rowCount, 1, `typed parameters row ${ri + 1}`);
  }
  eq((await run(c, cases.diff)).rows, [], 'values written through typed parameters equal the literal rows (1 = same)');
  eq((await run(c, cases.diff_back)).rows, [], 'no extra parameter rows');
}

// ---- the steps

async function main() {
  const admin = await connect('master');
  await run(admin, 'CREATE DATABASE drvtest');
  eq((await run(admin, "SELECT name FROM sys.databases WHERE name = 'drvtest'")).rows, [['drvtest']], 'CREATE DATABASE');
  admin.close();

  const c = await connect('drvtest');
  eq((await run(c, 'SELECT DB_NAME() AS db')).rows, [['drvtest']], 'database from the login');
  await run(c, 'CREATE TABLE items (id int NOT NULL PRIMARY KEY, name nvarchar(40) NOT NULL, qty int NULL)');
  await run(c, 'CREATE INDEX ix_items_name ON items (name)');
  await run(c, 'CREATE TABLE scratch (a int)');
  await run(c, 'DROP TABLE scratch');
  eq((await run(c, 'SELECT name FROM sys.tables ORDER BY name')).rows, [['items']], 'sys.tables after DDL');

  // DML with row counts
  eq((await run(c, "INSERT INTO items (id, name, qty) VALUES (1, N'a', 10), (2, N'b', 20), (3, N'c', 30)")).rowCount,
     3, 'INSERT row count');
  eq((await run(c, 'UPDATE items SET qty = qty + 1 WHERE id >= 2')).rowCount, 2, 'UPDATE row count');
  eq((await run(c, 'DELETE FROM items WHERE id = 1', null, 'batch')).rowCount, 1, 'DELETE row count (batch)');
  eq((await run(c, 'SELECT id, name, qty FROM items ORDER BY id')).rows, [[2, 'b', 21], [3, 'c', 31]], 'SELECT after DML');

  // transactions through TM requests; c sees the outcome
  const t = await connect('drvtest');
  await tm(t, 'beginTransaction');
  await run(t, "INSERT INTO items (id, name, qty) VALUES (10, N'committed', 1)");
  await run(t, 'UPDATE items SET qty = 100 WHERE id = 2');
  eq((await run(t, 'SELECT @@TRANCOUNT AS n')).rows, [[1]], '@@TRANCOUNT inside beginTransaction');
  await tm(t, 'commitTransaction');
  eq((await run(c, 'SELECT id, qty FROM items ORDER BY id')).rows, [[2, 100], [3, 31], [10, 1]], 'after commit');
  await tm(t, 'beginTransaction');
  await run(t, "INSERT INTO items (id, name, qty) VALUES (11, N'rolled back', 1)");
  await run(t, 'UPDATE items SET qty = 999 WHERE id = 3');
  await run(t, 'DELETE FROM items WHERE id = 2');
  eq((await run(t, 'SELECT COUNT(*) AS n FROM items')).rows, [[3]], 'own changes inside the transaction');
  await tm(t, 'rollbackTransaction');
  eq((await run(t, 'SELECT @@TRANCOUNT AS n')).rows, [[0]], '@@TRANCOUNT after rollbackTransaction');
  eq((await run(c, 'SELECT id, qty FROM items ORDER BY id')).rows, [[2, 100], [3, 31], [10, 1]], 'after rollback');
  t.close();

  // parameters: sp_executesql, OUTPUT, sp_prepare/sp_execute
  eq((await run(c, 'SELECT name, qty FROM items WHERE id = @id AND qty > @q',
                [{ name: 'id', type: TYPES.Int, value: 3 }, { name: 'q', type: TYPES.Int, value: 5 }])).rows,
     [['c', 31]], 'parameterized SELECT');
  eq((await run(c, 'INSERT INTO items (id, name, qty) VALUES (@id, @n, @q)',
                [{ name: 'id', type: TYPES.Int, value: 20 }, { name: 'n', type: TYPES.NVarChar, value: 'ünïcødé ☃' },
                 { name: 'q', type: TYPES.Int, value: null }])).rowCount, 1, 'parameterized INSERT');
  eq((await run(c, 'SELECT name, qty FROM items WHERE name = @n',
                [{ name: 'n', type: TYPES.NVarChar, value: 'ünïcødé ☃' }])).rows,
     [['ünïcødé ☃', null]], 'Unicode and NULL parameters');
  const o = await run(c, 'SELECT @cnt = COUNT(*) FROM items WHERE qty > @min',
                      [{ name: 'min', type: TYPES.Int, value: 10 }, { name: 'cnt', type: TYPES.Int, output: true }]);
  eq(o.outputs.cnt, 2, 'OUTPUT parameter');
  const prepared = await new Promise((resolve, reject) => {
    const rows = [];
    const req = new Request('SELECT name FROM items WHERE id = @id', err => { if (err) reject(err); });
    req.addParameter('id', TYPES.Int);
    req.on('row', cols => rows.push(cols[0].value));
    req.on('prepared', () => resolve({ req, rows }));
    c.prepare(req);
  });
  for (const id of [2, 3]) {
    await new Promise((resolve, reject) => {
      prepared.req.once('requestCompleted', resolve);
      prepared.req.once('error', reject);
      c.execute(prepared.req, { id });
    });
  }
  eq(prepared.rows, ['b', 'c'], 'sp_prepare + sp_execute twice');
  await new Promise(resolve => { prepared.req.once('requestCompleted', resolve); c.unprepare(prepared.req); });

  await typesCheck(c);

  // errors with their numbers; the connection stays usable
  const e = await expectError(c, 'SELECT * FROM no_such_table', 208, 'invalid object');
  if (e) eq([e.class, e.state], [16, 1], '208 severity and state');
  await expectError(c, "INSERT INTO items (id, name) VALUES (2, N'dup')", 2627, 'duplicate key');
  await expectError(c, 'SELECT 1/0 AS x', 8134, 'divide by zero');
  eq((await run(c, 'SELECT COUNT(*) AS n FROM items')).rows, [[4]], 'connection usable after errors');

  // PRINT and RAISERROR below severity 11 arrive as INFO tokens; errors carry their line
  const infos = [];
  const onInfo = m => infos.push([m.number, m.class, m.message, m.lineNumber]);
  c.on('infoMessage', onInfo);
  await run(c, "PRINT 'hello'\nRAISERROR('note %d', 10, 1, 7)", null, 'batch');
  c.removeListener('infoMessage', onInfo);
  eq(infos, [[0, 0, 'hello', 1], [50000, 10, 'note 7', 2]], 'PRINT and RAISERROR severity 10 as INFO');
  const e3 = await expectError(c, "SELECT 1\nSELECT 2\nSELECT * FROM nowhere", 208, 'error on line 3');
  if (e3) eq(e3.lineNumber, 3, 'line number of the error');

  // RESETCONNECTION (what pools send): the session goes back to its login state
  await run(c, 'SET XACT_ABORT ON; SET QUOTED_IDENTIFIER OFF; CREATE TABLE #gone (a int); BEGIN TRAN; ' +
               "INSERT INTO items (id, name) VALUES (99, N'in flight')", null, 'batch');
  eq((await run(c, 'SELECT @@TRANCOUNT AS tc')).rows, [[1]], 'transaction open before the reset');
  await new Promise((resolve, reject) => c.reset(err => (err ? reject(err) : resolve())));
  const after = (await run(c, "SELECT @@TRANCOUNT, @@OPTIONS & 16384, SESSIONPROPERTY('QUOTED_IDENTIFIER'), " +
                              "OBJECT_ID('tempdb..#gone'), (SELECT COUNT(*) FROM items WHERE id = 99)")).rows;
  // (tedious sends its SET batch again with the reset, so the options are its own)
  eq(after, [[0, 0, 1, null, 0]], 'after reset: transaction rolled back, temp table dropped, options as after connect');
  c.close();
}

main().catch(err => { check(false, 'stopped early: ' + (err && err.stack ? err.stack : err)); }).finally(() => {
  console.log(`tedious: ${passed} checks passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
});
