#include "traffic/distribution.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <numeric>

#include "base/text.h"

namespace parley::traffic {
namespace {

bool Finite(double v) { return std::isfinite(v); }

}  // namespace

Result<Distribution> Distribution::Fixed(double value) {
  if (!Finite(value) || value < 0) {
    return InvalidArgument(fmt::format("fixed value must be >= 0 seconds, got {}", value));
  }
  return Distribution(Kind::kFixed, value, 0);
}

Result<Distribution> Distribution::Exponential(double mean) {
  if (!Finite(mean) || mean <= 0) {
    return InvalidArgument(fmt::format("exponential mean must be > 0 seconds, got {}", mean));
  }
  return Distribution(Kind::kExponential, mean, 0);
}

Result<Distribution> Distribution::Lognormal(double mean, double sd) {
  if (!Finite(mean) || mean <= 0) {
    return InvalidArgument(fmt::format("lognormal mean must be > 0 seconds, got {}", mean));
  }
  if (!Finite(sd) || sd < 0) {
    return InvalidArgument(fmt::format("lognormal sd must be >= 0 seconds, got {}", sd));
  }
  return Distribution(Kind::kLognormal, mean, sd);
}

Result<Distribution> Distribution::Uniform(double min, double max) {
  if (!Finite(min) || !Finite(max) || min < 0 || min > max) {
    return InvalidArgument(
        fmt::format("uniform needs 0 <= min <= max seconds, got min {} max {}", min, max));
  }
  return Distribution(Kind::kUniform, min, max);
}

Result<Distribution> Distribution::Empirical(std::vector<double> samples) {
  if (samples.empty()) return InvalidArgument("empirical distribution needs at least one sample");
  for (size_t i = 0; i < samples.size(); ++i) {
    if (!Finite(samples[i]) || samples[i] < 0) {
      return InvalidArgument(
          fmt::format("empirical sample {} must be >= 0 seconds, got {}", i + 1, samples[i]));
    }
  }
  Distribution d(Kind::kEmpirical, 0, 0);
  d.samples_ = std::make_shared<const std::vector<double>>(std::move(samples));
  return d;
}

double Distribution::Sample(Random& random) const {
  switch (kind_) {
    case Kind::kFixed:
      return a_;
    case Kind::kExponential:
      return random.Exponential(a_);
    case Kind::kLognormal:
      return random.LognormalMeanSd(a_, b_);
    case Kind::kUniform:
      return a_ + (b_ - a_) * random.Uniform();
    case Kind::kEmpirical:
      return (*samples_)[random.Below(samples_->size())];
  }
  PARLEY_CHECK(false);
  return 0;
}

double Distribution::Mean() const {
  switch (kind_) {
    case Kind::kFixed:
    case Kind::kExponential:
    case Kind::kLognormal:
      return a_;
    case Kind::kUniform:
      return (a_ + b_) / 2;
    case Kind::kEmpirical:
      return std::accumulate(samples_->begin(), samples_->end(), 0.0) /
             static_cast<double>(samples_->size());
  }
  PARLEY_CHECK(false);
  return 0;
}

double Distribution::Variance() const {
  switch (kind_) {
    case Kind::kFixed:
      return 0;
    case Kind::kExponential:
      return a_ * a_;
    case Kind::kLognormal:
      return b_ * b_;
    case Kind::kUniform:
      return (b_ - a_) * (b_ - a_) / 12;
    case Kind::kEmpirical: {
      const double mean = Mean();
      double sum = 0;
      for (double s : *samples_) sum += (s - mean) * (s - mean);
      return sum / static_cast<double>(samples_->size());
    }
  }
  PARLEY_CHECK(false);
  return 0;
}

std::string Distribution::ToString() const {
  switch (kind_) {
    case Kind::kFixed:
      return fmt::format("fixed:{:g}", a_);
    case Kind::kExponential:
      return fmt::format("exp:{:g}", a_);
    case Kind::kLognormal:
      return fmt::format("lognormal:{:g},{:g}", a_, b_);
    case Kind::kUniform:
      return fmt::format("uniform:{:g},{:g}", a_, b_);
    case Kind::kEmpirical:
      return fmt::format("empirical:{} samples", samples_->size());
  }
  PARLEY_CHECK(false);
  return "";
}

Result<std::vector<double>> ParseSamples(std::string_view text) {
  std::vector<double> samples;
  int line_number = 0;
  bool first = true;
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    std::string_view line = Trim(text.substr(0, eol));
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    ++line_number;
    if (line.empty() || line.front() == '#') continue;
    const std::string_view field = Trim(line.substr(0, line.find(',')));
    double value = 0;
    const bool number = ParseFiniteNumber(field, &value);
    if (first && !number && !std::isdigit(static_cast<unsigned char>(field.front()))) {
      first = false;  // a header
      continue;
    }
    first = false;
    if (!number || value < 0) {
      return InvalidArgument(
          fmt::format("line {}: '{}' is not a number of seconds >= 0", line_number, field));
    }
    samples.push_back(value);
  }
  if (samples.empty()) return InvalidArgument("no samples (one number per line expected)");
  return samples;
}

Result<Distribution> ParseDistribution(std::string_view spec, const TextLoader& loader) {
  constexpr const char* kAllowed =
      "fixed:S, exp:MEAN, lognormal:MEAN,SD, uniform:MIN,MAX or empirical:FILE.csv";
  const std::string_view trimmed = Trim(spec);
  const size_t colon = trimmed.find(':');
  if (colon == std::string_view::npos) {
    return InvalidArgument(
        fmt::format("distribution '{}': expected KIND:PARAMETERS, one of {}", spec, kAllowed));
  }
  const std::string_view kind = Trim(trimmed.substr(0, colon));
  const std::string_view params = Trim(trimmed.substr(colon + 1));
  auto fail = [&](const Status& s) {
    return InvalidArgument(fmt::format("distribution '{}': {}", spec, s.message()));
  };

  if (kind == "empirical") {
    if (params.empty()) return fail(InvalidArgument("empirical needs a file name"));
    if (!loader) return fail(InvalidArgument("no file loader given to read empirical samples"));
    Result<std::string> text = loader(params);
    if (!text.ok()) return text.status();
    Result<std::vector<double>> samples = ParseSamples(*text);
    if (!samples.ok()) {
      return InvalidArgument(fmt::format("{}: {}", params, samples.status().message()));
    }
    return Distribution::Empirical(std::move(samples).value());
  }

  std::vector<double> numbers;
  for (size_t start = 0;;) {
    const size_t comma = params.find(',', start);
    const std::string_view field = params.substr(start, comma - start);
    double value = 0;
    if (!ParseFiniteNumber(field, &value)) {
      return fail(InvalidArgument(fmt::format("'{}' is not a number", Trim(field))));
    }
    numbers.push_back(value);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  auto expect = [&](size_t n, const char* form) -> Status {
    if (numbers.size() != n) {
      return InvalidArgument(fmt::format("{} takes {} number{} ({}), got {}", kind, n,
                                         n == 1 ? "" : "s", form, numbers.size()));
    }
    return Status::Ok();
  };
  Result<Distribution> d = InvalidArgument("");
  if (kind == "fixed") {
    if (Status s = expect(1, "fixed:SECONDS"); !s.ok()) return fail(s);
    d = Distribution::Fixed(numbers[0]);
  } else if (kind == "exp" || kind == "exponential") {
    if (Status s = expect(1, "exp:MEAN"); !s.ok()) return fail(s);
    d = Distribution::Exponential(numbers[0]);
  } else if (kind == "lognormal") {
    if (Status s = expect(2, "lognormal:MEAN,SD"); !s.ok()) return fail(s);
    d = Distribution::Lognormal(numbers[0], numbers[1]);
  } else if (kind == "uniform") {
    if (Status s = expect(2, "uniform:MIN,MAX"); !s.ok()) return fail(s);
    d = Distribution::Uniform(numbers[0], numbers[1]);
  } else {
    return InvalidArgument(
        fmt::format("distribution '{}': unknown kind '{}'; use {}", spec, kind, kAllowed));
  }
  if (!d.ok()) return fail(d.status());
  return d;
}

}  // namespace parley::traffic
