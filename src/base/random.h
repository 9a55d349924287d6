#pragma once
// Random: a specified generator (xoshiro256**, seeded through SplitMix64) and the few
// distributions the core needs, written here so that a seed gives the same numbers with every
// compiler and standard library. Not thread-safe; one per owner.

#include <cstdint>

namespace parley {

class Random {
 public:
  explicit Random(uint64_t seed = 1) { Seed(seed); }
  void Seed(uint64_t seed);

  uint64_t Next();
  // Uniform in [0, 1) with 53 random bits.
  double Uniform();
  // Uniform integer in [0, n) without modulo bias; n > 0.
  uint64_t Below(uint64_t n);
  // Exponential with the given mean (> 0).
  double Exponential(double mean);
  // Standard normal (Box-Muller, one value per call; the pair's second value is cached).
  double Normal();
  // Lognormal with the given mean and standard deviation of the resulting variable.
  double LognormalMeanSd(double mean, double sd);

 private:
  uint64_t s_[4];
  bool has_spare_ = false;
  double spare_ = 0;
};

}  // namespace parley
