// The command table: every command registers under its listed name, alone or with the others,
// so that a run that sets up only the command it names runs the same command.
#include <gtest/gtest.h>

#include "reports/cli/commands.h"

namespace v4sim::cli {
namespace {

std::vector<std::string> registered(const CLI::App& app) {
  std::vector<std::string> out;
  for (const CLI::App* sub : app.get_subcommands({})) out.push_back(sub->get_name());
  return out;
}

TEST(CommandTable, EachNameRegistersItsCommandAlone) {
  const std::vector<std::string_view> names = command_names();
  ASSERT_EQ(names.size(), 13u);
  for (std::string_view name : names) {
    CLI::App app;
    setup_commands(app, name);
    EXPECT_EQ(registered(app), std::vector<std::string>{std::string(name)});
  }
}

TEST(CommandTable, AllRegistersEveryNameInOrder) {
  CLI::App app;
  setup_commands(app);
  std::vector<std::string> want;
  for (std::string_view name : command_names()) want.emplace_back(name);
  EXPECT_EQ(registered(app), want);
  CLI::App none;
  setup_commands(none, "no-such-command");
  EXPECT_TRUE(registered(none).empty());
}

}  // namespace
}  // namespace v4sim::cli
