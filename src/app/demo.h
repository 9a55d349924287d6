#pragma once

namespace parley::app {

// Plays the bundled demonstration scenario through the real ACD and prints each decision.
int RunDemo();

}  // namespace parley::app
