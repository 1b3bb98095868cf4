#include "ps-couch.h"
