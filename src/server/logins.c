/* logins.c — sa and its PBKDF2 password verifier in master (see logins.h). */
#include "server/logins.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "engine/table.h"

#define TABLE "sysloginhash"
#define ITERATIONS 20000
#define SALT_LEN 16
#define HASH_LEN 64

static table_def *login_table(instance *in, hdb_err *err)
{
    database *master = inst_database(in, DBID_MASTER);
    return master ? cat_find_table(master, SCHEMA_SYS, TABLE, err) : NULL;
}

static void lower(char *out, size_t cap, const char *s)
{
    size_t i = 0;
    for (; s[i] && i + 1 < cap; i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    out[i] = 0;
}

static int derive(const char *password, const uint8_t *salt, int iterations, uint8_t *out)
{
    return PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, SALT_LEN, iterations, EVP_sha512(),
                             HASH_LEN, out) == 1 ? 0 : -1;
}

static int store(instance *in, const char *name, const char *password, hdb_err *err)
{
    database *master = inst_database(in, DBID_MASTER);
    table_def *td = login_table(in, err);
    if (!td)
        return -1;
    uint8_t salt[SALT_LEN], hash[HASH_LEN];
    if (RAND_bytes(salt, sizeof salt) != 1 || derive(password, salt, ITERATIONS, hash) < 0)
        return hdb_raise_text(err, 15118, 16, 1, "Password could not be hashed.");
    char key[129];
    lower(key, sizeof key, name);
    sql_value v[4] = { value_bytes(SQL_VARCHAR, key, (uint32_t)strlen(key)),
                       value_bytes(SQL_VARBINARY, salt, sizeof salt),
                       value_bytes(SQL_VARBINARY, hash, sizeof hash),
                       value_int(SQL_INT, ITERATIONS) };
    txn *t = txn_begin(in->txns, 0, "CREATE LOGIN", "sa");
    int rc = table_insert(t, master, td, v, err);
    if (rc == 0)
        rc = txn_commit(t, err);
    else
        txn_rollback(t, NULL);
    txn_free(t);
    return rc;
}

/* A password that passes SQL Server's complexity rules. */
static void generate(char *out, size_t n)
{
    static const char set[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
    uint8_t r[64];
    RAND_bytes(r, sizeof r);
    size_t i = 0;
    for (; i + 1 < n && i < sizeof r; i++)
        out[i] = set[r[i] % (sizeof set - 1)];
    out[i] = 0;
    if (i >= 4) {
        out[0] = 'H';
        out[1] = 'd';
        out[2] = '7';
        out[3] = '#';
    }
}

int logins_init(instance *in, const char *datadir, hdb_err *err)
{
    hdb_err e;
    if (login_table(in, &e))
        return 0;   /* not the first start */
    database *master = inst_database(in, DBID_MASTER);
    tbl_column c[4] = { { .name = "name", .type = { .id = SQL_VARCHAR, .max_len = 128 } },
                        { .name = "salt", .type = { .id = SQL_VARBINARY, .max_len = SALT_LEN } },
                        { .name = "hash", .type = { .id = SQL_VARBINARY, .max_len = HASH_LEN } },
                        { .name = "iterations", .type = { .id = SQL_INT } } };
    int pk = 0;
    table_spec spec = { .schema_id = SCHEMA_SYS, .name = TABLE, .ncols = 4, .cols = c, .npk = 1, .pk_cols = &pk };
    txn *t = txn_begin(in->txns, 0, "CREATE LOGIN", "sa");
    int rc = cat_create_table(t, master, &spec, NULL, err);
    rc = rc == 0 ? txn_commit(t, err) : (txn_rollback(t, NULL), -1);
    txn_free(t);
    if (rc < 0)
        return -1;
    const char *pw = getenv("HADRD_SA_PASSWORD");
    char gen[24];
    if (!pw || !*pw) {
        generate(gen, sizeof gen);
        pw = gen;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/sa-password", datadir);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || write(fd, gen, strlen(gen)) < 0 || write(fd, "\n", 1) < 0 || fsync(fd) < 0) {
            if (fd >= 0)
                close(fd);
            return hdb_raise(err, 5120, path, 0, "cannot write the generated sa password");
        }
        close(fd);
        fprintf(stderr, "hadrd: generated sa password: %s (also in %s, mode 0600)\n", gen, path);
    }
    rc = store(in, "sa", pw, err);
    OPENSSL_cleanse(gen, sizeof gen);
    return rc;
}

int logins_check(instance *in, const char *name, const char *password)
{
    hdb_err e;
    table_def *td = login_table(in, &e);
    database *master = inst_database(in, DBID_MASTER);
    if (!td || !master)
        return 0;
    char key[129];
    lower(key, sizeof key, name);
    sql_value k = value_bytes(SQL_VARCHAR, key, (uint32_t)strlen(key));
    txn *t = txn_begin(in->txns, 0, "login", name);
    table_row r;
    int found = table_get(t, master, td, &k, ISO_READ_COMMITTED, &r, &e);
    int ok = 0;
    if (found == 1) {
        uint8_t hash[HASH_LEN];
        if (r.vals[1].len == SALT_LEN && r.vals[2].len == HASH_LEN &&
            derive(password, r.vals[1].bytes, (int)r.vals[3].u.i, hash) == 0)
            ok = CRYPTO_memcmp(hash, r.vals[2].bytes, HASH_LEN) == 0;
        table_row_free(&r);
    }
    txn_commit(t, &e);
    txn_free(t);
    return ok;
}
