#pragma once
// Files HAProxy reads beside haproxy.cfg (maps and pattern lists), carried
// inside it. A configuration travels from the operator to the proxies as one
// text, so the renderer appends each file as a block of marked comments,
// which HAProxy itself ignores:
//
//   #@file sg-hosts.1a2b3c4d.map
//   #@ a.example.com s1
//   #@ b.example.com s2
//
// The check (ExecHaproxyValidator) and the proxy agent write the blocks out
// as files in HAProxy's working directory before HAProxy reads the text.
// A file's name carries a hash of its content, so the files of two
// configurations never overwrite each other: a configuration refused at a
// reload leaves the running one's files in place, and a restart reads what
// it ran.
//
// Thread-safe: pure functions.

#include <string>
#include <string_view>
#include <vector>

#include "operator/common/result.h"

namespace sg::haproxy {

struct SideFile {
  std::string name;     // no directory: [A-Za-z0-9._-], not starting with '.'
  std::string content;  // lines, each ending in '\n'

  bool operator==(const SideFile& o) const { return name == o.name && content == o.content; }
};

// "<stem>.<hash of content>.<extension>": the name a file of that content gets.
std::string SideFileName(std::string_view stem, std::string_view extension,
                         std::string_view content);

// Whether `name` is a plain file name a side file may have.
bool IsSideFileName(std::string_view name);

// The marked block of `file`, appended to *out: SideFileStart(name), then
// SideFileLine(line) for each line of the content.
void AppendSideFile(const SideFile& file, std::string* out);
std::string SideFileStart(std::string_view name);
// `line` has no newline.
std::string SideFileLine(std::string_view line);

// The blocks of `config`, in order. InvalidArgument names the line of a block
// whose name is not a plain file name or that names a file twice.
Result<std::vector<SideFile>> SideFiles(std::string_view config);

}  // namespace sg::haproxy
