/*
 * exec_pageverify.c — ALTER DATABASE ... SET PAGE_VERIFY { CHECKSUM |
 * TORN_PAGE_DETECTION | NONE }, the older SET TORN_PAGE_DETECTION { ON | OFF },
 * and how sys.databases shows the option.
 *
 * The option is persisted on the boot page (a logged change, so it survives
 * restarts and travels with backups) and takes effect at once for writes:
 * pages written from now on carry the new protection; pages already on disk
 * keep theirs until they are written again (storage/pageprot.h). A read
 * checks whatever protection the page carries unless the option is NONE, in
 * which case only the page's self id is checked — SQL Server's behaviour.
 */
#include <stdio.h>
#include <string.h>

#include "sql/exec_int.h"

int ex_page_verify_option(int mode)
{
    return mode == PAGE_VERIFY_NONE ? 0 : mode == PAGE_VERIFY_TORN ? 1 : 2;
}

const char *ex_page_verify_desc(int mode)
{
    return mode == PAGE_VERIFY_NONE ? "NONE" : mode == PAGE_VERIFY_TORN ? "TORN_PAGE_DETECTION" : "CHECKSUM";
}

static bool has_option(const ast_alter_database *ad, const char *name)
{
    for (int i = 0; i < ad->options.n; i++)
        if (!strcmp(ad->options.v[i]->name, name))
            return true;
    return false;
}

int ex_set_page_verify(sql_session *s, database *db, const ast_alter_database *ad, const ast_option *o)
{
    if (!o->word)
        return ex_failf(s, 102, 15, 1, "Incorrect syntax near '%s'.", o->name);
    int cur = db->boot.page_verify, mode;
    if (!strcmp(o->name, "TORN_PAGE_DETECTION")) {
        if (has_option(ad, "PAGE_VERIFY"))
            return ex_failf(s, 5067, 16, 1, "The database option TORN_PAGE_DETECTION is incompatible with the "
                                            "PAGE_CHECKSUM option.");
        if (ast_option_word_is(o, "ON"))
            mode = PAGE_VERIFY_TORN;
        else if (ast_option_word_is(o, "OFF"))
            mode = cur == PAGE_VERIFY_TORN ? PAGE_VERIFY_NONE : cur;   /* OFF only turns torn bits off */
        else
            return ex_failf(s, 102, 15, 1, "Incorrect syntax near '%s'.", o->word);
    } else if (ast_option_word_is(o, "CHECKSUM")) {
        mode = PAGE_VERIFY_CHECKSUM;
    } else if (ast_option_word_is(o, "TORN_PAGE_DETECTION")) {
        mode = PAGE_VERIFY_TORN;
    } else if (ast_option_word_is(o, "NONE")) {
        mode = PAGE_VERIFY_NONE;
    } else {
        return ex_failf(s, 102, 15, 1, "Incorrect syntax near '%s'.", o->word);
    }
    if (mode == cur)
        return EX_OK;
    pthread_mutex_lock(&db->boot_mu);
    uint8_t old = db->boot.page_verify;
    db->boot.page_verify = (uint8_t)mode;
    int rc = db_write_boot(db, &s->err);
    if (rc < 0)
        db->boot.page_verify = old;
    pthread_mutex_unlock(&db->boot_mu);
    if (rc < 0)
        return EX_ERROR;
    /* writes from now on; the boot page itself was just protected the old way */
    df_set_page_verify(db->df, mode);
    return EX_OK;
}
