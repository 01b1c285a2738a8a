/*
 * rpc.c — RPC requests (packet type 0x03).
 *
 *   [ALL_HEADERS]
 *   { NameLenProcID: US_VARCHAR name, or FF FF + ProcID:2
 *     OptionFlags:2
 *     { Name B_VARCHAR, Status:1, TYPE_INFO, value }*     until a separator
 *   } separated by 0xFF (7.2+) / 0x80 (7.1) "run the next one too" or 0xFE
 *     "do not run the preceding one"
 *
 * A parameter's name length byte can never be 0xFF or 0xFE (names are at
 * most 128 characters), so a separator is recognisable where a parameter
 * would start. 0x80 (= 128 characters) is a separator only on 7.1
 * connections, where it is the only batch flag there is.
 *
 * Special procedures come by id or by name; both end up in proc_id so the
 * server can switch on it (mssql calls sp_prepare/sp_execute by name,
 * tdsodbc sends sp_execute by name and sp_prepexec by id).
 */
#include "tds/tds_int.h"

#include <strings.h>

#include "util/utf16.h"

static const char *const proc_names[] = {
    NULL, "sp_cursor", "sp_cursoropen", "sp_cursorprepare", "sp_cursorexecute",
    "sp_cursorprepexec", "sp_cursorunprepare", "sp_cursorfetch", "sp_cursoroption",
    "sp_cursorclose", "sp_executesql", "sp_prepare", "sp_execute", "sp_prepexec",
    "sp_prepexecrpc", "sp_unprepare",
};
#define NPROCS ((int)(sizeof proc_names / sizeof proc_names[0]))

const char *tds_proc_name(int proc_id)
{
    return proc_id > 0 && proc_id < NPROCS ? proc_names[proc_id] : NULL;
}

int tds_proc_id_from_name(const char *name)
{
    if (!name)
        return 0;
    /* Only the last part counts ("master.sys.[sp_execute]"): like SQL Server,
     * which resolves sp_ names to the system procedure whatever the prefix. */
    const char *last = strrchr(name, '.');
    last = last ? last + 1 : name;
    size_t n = strlen(last);
    if (n >= 2 && last[0] == '[' && last[n - 1] == ']') {
        last++;
        n -= 2;
    }
    for (int i = 1; i < NPROCS; i++)
        if (strlen(proc_names[i]) == n && strncasecmp(proc_names[i], last, n) == 0)
            return i;
    return 0;
}

static int bad(hdb_err *err, const char *why)
{
    return tds_fail(err, TDS_ERR_PROTOCOL, 16, "The incoming tabular data stream (TDS) "
                    "protocol stream is incorrect. Invalid RPC request: %s.", why);
}

static int oom(hdb_err *err)
{
    return hdb_raise_text(err, 701, 17, 1, "There is insufficient system memory to run this "
                          "query.");
}

/* UTF-16 of n units at s -> UTF-8 in request memory. */
static const char *mem_utf8(struct tds_mem **mem, const uint8_t *s, size_t units)
{
    size_t need = utf16le_to_utf8(s, 2 * units, NULL, 0);
    char *d = tds_mem_alloc(mem, need + 1);
    if (d)
        utf16le_to_utf8(s, 2 * units, d, need + 1);
    return d;
}

static int is_separator(uint32_t version, uint8_t b)
{
    return b == 0xFF || b == 0xFE || (b == 0x80 && !tds_is72(version));
}

static int parse_call(uint32_t version, tds_rd *r, tds_rpc *call, struct tds_mem **mem, hdb_err *err)
{
    uint16_t nlen;
    if (rd_u16le(r, &nlen) < 0)
        return bad(err, "missing procedure name");
    if (nlen == 0xFFFF) {
        uint16_t id;
        if (rd_u16le(r, &id) < 0)
            return bad(err, "missing procedure id");
        call->by_id = 1;
        call->proc_id = id;
        call->proc_name = tds_proc_name(id) ? tds_proc_name(id) : "";
    } else {
        const uint8_t *s;
        if (nlen == 0 || rd_bytes(r, 2u * nlen, &s) < 0)
            return bad(err, nlen ? "truncated procedure name" : "empty procedure name");
        if (!(call->proc_name = mem_utf8(mem, s, nlen)))
            return oom(err);
        call->proc_id = tds_proc_id_from_name(call->proc_name);
    }
    if (rd_u16le(r, &call->options) < 0)
        return bad(err, "missing option flags");

    int cap = 0;
    while (rd_left(r) > 0) {
        uint8_t b = r->p[r->pos];
        if (is_separator(version, b)) {
            r->pos++;
            call->no_exec = b == 0xFE;
            break;
        }
        if (call->nparams >= TDS_MAX_PARAMS)
            return tds_fail(err, TDS_ERR_RPC_NPARAM, 16, "The incoming request has too many "
                            "parameters. The server supports a maximum of %d parameters. "
                            "Reduce the number of parameters and resend the request.",
                            TDS_MAX_PARAMS);
        if (call->nparams == cap) {
            int ncap = cap ? 2 * cap : 8;
            tds_param *np = realloc(call->params, (size_t)ncap * sizeof *np);
            if (!np)
                return oom(err);
            call->params = np;
            cap = ncap;
        }
        tds_param *p = &call->params[call->nparams];
        memset(p, 0, sizeof *p);
        call->nparams++;
        uint8_t namelen;
        const uint8_t *name;
        if (rd_u8(r, &namelen) < 0 || rd_bytes(r, 2u * namelen, &name) < 0 ||
            rd_u8(r, &p->status) < 0)
            return bad(err, "truncated parameter");
        if (!(p->name = mem_utf8(mem, name, namelen)))
            return oom(err);
        if (p->status & TDS_PARAM_ENCRYPTED)
            return tds_fail(err, TDS_ERR_RPC_TYPE, 16, "The incoming tabular data stream "
                            "(TDS) remote procedure call (RPC) protocol stream is incorrect. "
                            "Parameter %d (\"%s\"): encrypted parameters (Always Encrypted) "
                            "are not supported.", call->nparams, p->name);
        if (tds_param_decode(r, version, p, call->nparams, mem, err) < 0)
            return -1;
    }
    return 0;
}

int tds_rpc_parse(uint32_t tds_version, const uint8_t *p, size_t len,
                  tds_rpc_request *out, hdb_err *err)
{
    memset(out, 0, sizeof *out);
    tds_rd r;
    rd_init(&r, p, len);
    if (tds_headers_parse(tds_version, &r, &out->headers, err) < 0)
        return -1;
    int cap = 0;
    do {
        if (out->ncalls == cap) {
            int ncap = cap ? 2 * cap : 2;
            tds_rpc *nc = realloc(out->calls, (size_t)ncap * sizeof *nc);
            if (!nc) {
                tds_rpc_free(out);
                return oom(err);
            }
            out->calls = nc;
            cap = ncap;
        }
        tds_rpc *call = &out->calls[out->ncalls++];
        memset(call, 0, sizeof *call);
        if (parse_call(tds_version, &r, call, &out->mem, err) < 0) {
            tds_rpc_free(out);
            return -1;
        }
    } while (rd_left(&r) > 0);
    return 0;
}

void tds_rpc_free(tds_rpc_request *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->ncalls; i++)
        free(r->calls[i].params);
    free(r->calls);
    tds_mem_free(&r->mem);
    r->calls = NULL;
    r->ncalls = 0;
}
