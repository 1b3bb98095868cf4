/* ps-test-support.c: placeholder so the support library is never empty. */
#include "ps-couch-error.h"
