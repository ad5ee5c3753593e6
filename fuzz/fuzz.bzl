"""lra_fuzz_target: one parser's fuzz target, built two ways.

  <name>_corpus_test  gcc-buildable test (part of `bazel test //...`) that
                      runs the target once on every file of corpus/<name>/
  <name>              libFuzzer binary, tag manual: build it with
                      `bazel build --config=fuzz //fuzz:<name>` (clang), or
                      run every target with tools/fuzz.sh
"""

def lra_fuzz_target(name, srcs, deps):
    native.cc_library(
        name = name + "_lib",
        srcs = srcs,
        deps = deps + [":fuzz_files"],
        alwayslink = 1,
        testonly = 1,
    )
    native.cc_test(
        name = name + "_corpus_test",
        size = "small",
        args = ["fuzz/corpus/" + name],
        data = native.glob(["corpus/" + name + "/**"]),
        deps = [
            ":" + name + "_lib",
            ":corpus_main",
        ],
    )
    native.cc_binary(
        name = name,
        testonly = 1,
        linkopts = ["-fsanitize=fuzzer"],
        tags = ["manual"],
        deps = [":" + name + "_lib"],
    )
