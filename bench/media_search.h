#pragma once
// media_bench --search: the voice benchmark's media figures (see media_search.cc).

namespace parley::bench {

// Parses --quick, --seconds S, --threads T from argv, runs the searches and prints one JSON
// object with forward_pps, limit_pps and recorded_calls; returns the exit code.
int RunSearch(int argc, char** argv);

}  // namespace parley::bench
