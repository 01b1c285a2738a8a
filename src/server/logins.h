/*
 * logins.h — SQL authentication: the sa login and its password verifier.
 *
 * Passwords are never stored: master holds, per login, a random 16-byte salt
 * and PBKDF2-HMAC-SHA512(password, salt, iterations) (table
 * master.sys.sysloginhash). On the first start the sa password comes from
 * HADRD_SA_PASSWORD or is generated (printed once and written to
 * DATADIR/sa-password, mode 0600).
 */
#ifndef HDB_SERVER_LOGINS_H
#define HDB_SERVER_LOGINS_H

#include "engine/instance.h"

/* Make sure sa exists (first start): create the table and the verifier. */
int logins_init(instance *in, const char *datadir, hdb_err *err);
/* 1 if name/password match, 0 if not (unknown login or wrong password). */
int logins_check(instance *in, const char *name, const char *password);

#endif
