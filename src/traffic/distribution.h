#pragma once
// Distribution: a handle-time or patience distribution (seconds, never negative) sampled with
// parley::Random, so that a seed gives the same draws with every compiler and library. A small
// immutable value: copies are cheap (empirical samples are shared) and safe to read from any
// thread; sampling mutates only the Random passed in.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/random.h"
#include "base/status.h"

namespace parley::traffic {

class Distribution {
 public:
  enum class Kind { kFixed, kExponential, kLognormal, kUniform, kEmpirical };

  // Each factory checks its parameters (finite; value, mean, min >= 0 and mean > 0 where a mean
  // is given; sd >= 0; min <= max; samples non-empty and each >= 0) and says which is wrong.
  static Result<Distribution> Fixed(double value);
  static Result<Distribution> Exponential(double mean);
  static Result<Distribution> Lognormal(double mean, double sd);
  static Result<Distribution> Uniform(double min, double max);
  // Draws one of `samples` uniformly at random.
  static Result<Distribution> Empirical(std::vector<double> samples);

  // One draw, in seconds.
  double Sample(Random& random) const;
  // The distribution's mean and variance (for empirical: of the samples, population variance).
  double Mean() const;
  double Variance() const;
  Kind kind() const { return kind_; }
  // The spec this distribution parses from, e.g. "lognormal:180,90" ("empirical:N samples").
  std::string ToString() const;

 private:
  Distribution(Kind kind, double a, double b) : kind_(kind), a_(a), b_(b) {}

  Kind kind_;
  double a_;  // fixed: value; exponential, lognormal: mean; uniform: min
  double b_;  // lognormal: sd; uniform: max
  std::shared_ptr<const std::vector<double>> samples_;
};

// Returns the text of a file named in a spec (e.g. the CSV of "empirical:FILE.csv"). The library
// never reads files itself; the caller decides where names resolve.
using TextLoader = std::function<Result<std::string>(std::string_view name)>;

// Parses "fixed:30", "exp:180" (or "exponential:180"), "lognormal:180,90" (mean, sd),
// "uniform:10,20" (min, max) or "empirical:FILE.csv" (loaded with `loader`, parsed by
// ParseSamples). Errors (kInvalidArgument, or the loader's own) quote the spec and say what is
// allowed.
Result<Distribution> ParseDistribution(std::string_view spec, const TextLoader& loader = {});

// One number (seconds >= 0) per line; blank lines, '#' comments and a non-numeric first line
// (a header) are skipped; only the first comma-separated field counts. Errors name the line.
Result<std::vector<double>> ParseSamples(std::string_view text);

}  // namespace parley::traffic
