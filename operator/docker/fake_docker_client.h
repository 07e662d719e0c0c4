#pragma once
// Moved to operator/testing/fake_docker_client.h (library sg_testing, linked
// by test binaries only). This forwarding header keeps the old include path
// compiling until every test includes the new one.

#include "operator/testing/fake_docker_client.h"
