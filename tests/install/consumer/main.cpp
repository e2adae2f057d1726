// Loads a model through the installed library and prints its parameter count.
#include <iostream>

#include "models/model_loader.h"
#include "models/weights.h"

int main(int argc, char** argv) {
  const v4sim::ModelSpec spec = v4sim::load_model(argc > 1 ? argv[1] : "deepseek-v4-flash");
  std::cout << spec.name << ' ' << v4sim::count_parameters(spec).total_params << '\n';
  return 0;
}
