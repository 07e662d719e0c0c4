// `swarmgate explain KIND[.FIELD...]`: what a resource field means, its type,
// constraints and default, and the fields below it, from the schemas built
// into the binary (crds/schema_explain.h). Offline: no cluster needed.
#include <iostream>

#include "crds/schema_explain.h"
#include "operator/cli/commands.h"
#include "operator/cli/exit_codes.h"

namespace po = boost::program_options;

namespace sg::cli {

int RunExplain(const Args& args, CliContext& ctx) {
  std::vector<std::string> positional;
  po::options_description desc("explain: describe a resource or one of its fields, offline");
  desc.add_options()("args", po::value<std::vector<std::string>>(&positional),
                     "KIND[.FIELD...], e.g. route.spec.timeouts");
  AddGlobalOptions(desc, ctx);
  po::positional_options_description pos;
  pos.add("args", -1);
  const char* usage =
      "swarmgate explain KIND[.FIELD...]   (e.g. route, route.spec.backends.weight, "
      "servicecluster.spec.proxy.engine)";
  auto parsed = ParseArgs(args, desc, &pos, usage, ctx);
  if (parsed.help) return kExitOk;
  if (!parsed.ok) return kExitUsage;
  if (positional.size() != 1) {
    ctx.err << "error: expected one KIND[.FIELD...]\nUsage: " << usage << "\n";
    return kExitUsage;
  }
  auto explained = crds::Explain(positional[0]);
  if (!explained.ok()) {
    ctx.err << "error: " << explained.error().message << "\n";
    // A path that names nothing is a usage error, like an unknown kind for
    // get; anything else would be a defect of the embedded schemas.
    return explained.error().Is(ErrorCode::kInvalidArgument) ? kExitUsage : kExitInvalid;
  }
  ctx.out << crds::FormatExplanation(*explained);
  return kExitOk;
}

}  // namespace sg::cli
