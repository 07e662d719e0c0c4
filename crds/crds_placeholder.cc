#include "operator/common/result.h"
