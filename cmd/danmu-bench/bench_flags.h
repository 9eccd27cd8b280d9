#pragma once
// The flags of one danmu-bench mode, "--name value" pairs. Reading a flag
// checks it; the first problem (a word without "--" or without a value, a
// required flag missing, a value that is not a number or is out of range) is
// kept, so that a mode reads all its flags and then stops with a usage error
// naming the flag (exit 2) before it contacts anything. std::stoi on a flag
// threw instead, and "--seconds ten" ended in an uncaught exception.
#include <climits>
#include <map>
#include <string>

namespace danmu::bench {

class BenchFlags {
 public:
  // argv[from..argc): the mode's words.
  BenchFlags(int argc, const char* const* argv, int from);

  bool Has(const std::string& name) const { return values_.count(name) != 0; }
  std::string Str(const std::string& name, const std::string& def) const;
  std::string Required(const std::string& name);
  // A decimal integer in [min, max], `def` when the flag is absent.
  int Int(const std::string& name, int def, int min = 0, int max = INT_MAX);
  int RequiredInt(const std::string& name, int min = 0, int max = INT_MAX);
  // A decimal number such as 0.5 in [min, max].
  double Number(const std::string& name, double def, double min = 0, double max = 1e9);

  // Records a problem found by the mode itself (a malformed URL or range);
  // the first one wins.
  void Fail(const std::string& message);
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  // Prints "danmu-bench MODE: <error>" and returns 2, the usage exit code.
  int UsageError(const std::string& mode) const;

 private:
  int CheckedInt(const std::string& name, const std::string& text, int min, int max);

  std::map<std::string, std::string> values_;
  std::string error_;
};

}  // namespace danmu::bench
