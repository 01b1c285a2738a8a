/*
 * hadrd.c — the hadrdb server. The storage engine is in place; the TDS
 * listener and the T-SQL layer come with the server step, so for now the
 * binary says so and exits non-zero rather than pretend to serve.
 */
#include <stdio.h>

int main(void)
{
    fprintf(stderr, "hadrd: the storage engine is built (see README); the TDS server and T-SQL "
                    "come in the next step. Nothing is listening.\n");
    return 2;
}
