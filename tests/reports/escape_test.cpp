// Escaping rules per format: each untrusted string shows as text and cannot act as markup or code.
#include "reports/escape.h"

#include <gtest/gtest.h>

namespace v4sim::report {
namespace {

TEST(Escape, OneLineReplacesControlCharactersAndInvalidUtf8) {
  EXPECT_EQ(one_line("a\nb\tc\rd"), "a b c d");
  EXPECT_EQ(one_line("red\x1b[31m"), "red [31m");  // No terminal escape survives.
  EXPECT_EQ(one_line(std::string("nul\0x", 5)), "nul x");
  EXPECT_EQ(one_line("\x7f"), " ");
  EXPECT_EQ(one_line("\xc2\x9b"), " ");  // C1 CSI, encoded in UTF-8.
  EXPECT_EQ(one_line("caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x98\x80"),
            "caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x98\x80");
  EXPECT_EQ(one_line("\xff"), "\xef\xbf\xbd");
  EXPECT_EQ(one_line("\xc0\xaf"), "\xef\xbf\xbd\xef\xbf\xbd");                  // Overlong '/'.
  EXPECT_EQ(one_line("\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // Surrogate.
  EXPECT_EQ(one_line("\xe2\x86"), "\xef\xbf\xbd\xef\xbf\xbd");                  // Truncated.
}

TEST(Escape, GnuplotQuoteKeepsQuotesOutOfLiteralsAndKeepsOneLine) {
  EXPECT_EQ(gnuplot_preamble(), "v4sim_quote = \"'\"\n");
  EXPECT_EQ(gnuplot_quote("it's"), "'it' . v4sim_quote . 's'");
  EXPECT_EQ(gnuplot_quote(""), "''");
  EXPECT_EQ(gnuplot_quote("'"), "v4sim_quote");
  EXPECT_EQ(gnuplot_quote("''a"), "v4sim_quote . v4sim_quote . 'a'");
  EXPECT_EQ(gnuplot_quote("`id` @m \\n \"q\""), "'`id` @m \\n \"q\"'");
  // A line break would end the command and start another one.
  EXPECT_EQ(gnuplot_quote("x\nsystem('touch f')"),
            "'x system(' . v4sim_quote . 'touch f' . v4sim_quote . ')'");
  // A trailing backslash stays inside the closing quote, so it cannot continue the line.
  EXPECT_EQ(gnuplot_quote("a\\"), "'a\\'");
}

TEST(Escape, HtmlEscapesMarkupAndQuotes) {
  EXPECT_EQ(html_escape("<script>alert(\"x\")</script> & 'y'"),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;");
  EXPECT_EQ(html_escape("a\nb"), "a b");
  EXPECT_EQ(html_escape("&amp;"), "&amp;amp;");
}

TEST(Escape, MarkdownInlineEscapesMarkup) {
  EXPECT_EQ(markdown_inline("a|b"), "a\\|b");
  EXPECT_EQ(markdown_inline("<script>alert(1)</script>"), "\\<script\\>alert(1)\\</script\\>");
  EXPECT_EQ(markdown_inline("*b* _i_ `c` [l](u) ~s~ #h &amp; \\"),
            "\\*b\\* \\_i\\_ \\`c\\` \\[l\\](u) \\~s\\~ \\#h \\&amp; \\\\");
  EXPECT_EQ(markdown_inline("-5.5e3"), "-5.5e3");  // Numbers stay readable.
  EXPECT_EQ(markdown_inline("two\nlines"), "two lines");
}

TEST(Escape, MarkdownLineStartEscapesBlockMarkers) {
  EXPECT_EQ(markdown_line_start("- item"), "\\- item");
  EXPECT_EQ(markdown_line_start("+ item"), "\\+ item");
  EXPECT_EQ(markdown_line_start("==="), "\\===");
  EXPECT_EQ(markdown_line_start("12. item"), "12\\. item");
  EXPECT_EQ(markdown_line_start("3) item"), "3\\) item");
  EXPECT_EQ(markdown_line_start("    code?"), "code?");
  EXPECT_EQ(markdown_line_start("# h"), "\\# h");
  EXPECT_EQ(markdown_line_start("> quote"), "\\> quote");
  EXPECT_EQ(markdown_line_start("3.5 GB"), "3.5 GB");
  EXPECT_EQ(markdown_line_start("   "), "");
}

}  // namespace
}  // namespace v4sim::report
