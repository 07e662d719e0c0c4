#pragma once
// Valid JSON documents to typed resources, applying defaults.

#include <rapidjson/document.h>

#include "crds/types.h"

namespace sg::crds {

// Preconditions: `document` passed ValidateSchema and the semantic checks;
// anything unexpected falls back to the default rather than failing.
ServiceCluster DecodeServiceCluster(const rapidjson::Value& document);
Route DecodeRoute(const rapidjson::Value& document);

}  // namespace sg::crds
