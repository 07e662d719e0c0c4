#pragma once
// The v1alpha1 API in one include: kinds, typed resources, status, loading
// and validation.

#include "crds/diagnostic.h"
#include "crds/grammar.h"
#include "crds/kind.h"
#include "crds/loader.h"
#include "crds/status.h"
#include "crds/types.h"
