#include "fuzz/handler_fuzz.hpp"

CLEARBOX_HANDLER_FUZZER("deafbead")
