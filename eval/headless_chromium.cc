#include "eval/headless_chromium.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <set>
#include <system_error>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "config/text_proto.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace lra {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

// The value at a path of keys, or nullptr.
const Value* Find(const Struct& root, std::initializer_list<const char*> path) {
  const Struct* current = &root;
  const Value* value = nullptr;
  for (const char* key : path) {
    if (current == nullptr) return nullptr;
    auto it = current->fields().find(key);
    if (it == current->fields().end()) return nullptr;
    value = &it->second;
    current = value->has_struct_value() ? &value->struct_value() : nullptr;
  }
  return value;
}

std::string FindString(const Struct& root,
                       std::initializer_list<const char*> path) {
  const Value* value = Find(root, path);
  return value != nullptr && value->has_string_value() ? value->string_value()
                                                       : "";
}

double FindNumber(const Struct& root, std::initializer_list<const char*> path) {
  const Value* value = Find(root, path);
  return value != nullptr && value->has_number_value() ? value->number_value()
                                                       : 0;
}

// Text of a console call's arguments.
std::string ConsoleText(const Struct& params) {
  const Value* args = Find(params, {"args"});
  std::vector<std::string> parts;
  if (args != nullptr && args->has_list_value()) {
    for (const Value& arg : args->list_value().values()) {
      if (!arg.has_struct_value()) continue;
      const Struct& object = arg.struct_value();
      std::string text = FindString(object, {"value"});
      if (text.empty()) text = FindString(object, {"description"});
      if (text.empty()) {
        const Value* number = Find(object, {"value"});
        if (number != nullptr && number->has_number_value()) {
          text = absl::StrCat(number->number_value());
        }
      }
      parts.push_back(text);
    }
  }
  return absl::StrJoin(parts, " ");
}

// The DevTools protocol over Chromium's pipe: JSON messages, each ended by a
// NUL byte, commands on fd 3 of the browser and answers on its fd 4.
class DevToolsPipe {
 public:
  DevToolsPipe(int write_fd, int read_fd, absl::Time deadline,
               std::vector<std::string>* errors)
      : write_fd_(write_fd),
        read_fd_(read_fd),
        deadline_(deadline),
        errors_(errors) {}

  // Sends a command and waits for its answer (events on the way are
  // recorded). Returns the answer's "result".
  absl::StatusOr<Struct> Call(const std::string& method,
                              const std::string& params_json = "{}") {
    const int id = ++last_id_;
    std::string message = absl::StrCat(
        "{\"id\":", id, ",\"method\":", JsonQuote(method),
        ",\"params\":", params_json,
        session_.empty() ? ""
                         : absl::StrCat(",\"sessionId\":", JsonQuote(session_)),
        "}");
    message.push_back('\0');
    size_t written = 0;
    while (written < message.size()) {
      ssize_t n =
          write(write_fd_, message.data() + written, message.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        return absl::UnavailableError(absl::StrCat(
            "Chromium closed its DevTools pipe while sending ", method));
      }
      written += n;
    }
    while (true) {
      absl::StatusOr<Struct> next = Next(method);
      if (!next.ok()) return next.status();
      if (FindNumber(*next, {"id"}) != id) {
        Handle(*next);
        continue;
      }
      if (Find(*next, {"error"}) != nullptr) {
        return absl::InternalError(
            absl::StrCat("DevTools ", method,
                         " failed: ", FindString(*next, {"error", "message"})));
      }
      const Value* result = Find(*next, {"result"});
      return result != nullptr && result->has_struct_value()
                 ? result->struct_value()
                 : Struct();
    }
  }

  // Reads until `method` arrives as an event.
  absl::Status AwaitEvent(const std::string& method) {
    while (!seen_events_.count(method)) {
      absl::StatusOr<Struct> next = Next(method);
      if (!next.ok()) return next.status();
      Handle(*next);
    }
    return absl::OkStatus();
  }

  void set_session(const std::string& session) { session_ = session; }

 private:
  // The next whole message.
  absl::StatusOr<Struct> Next(const std::string& waiting_for) {
    while (true) {
      size_t end = buffer_.find('\0');
      if (end != std::string::npos) {
        std::string json = buffer_.substr(0, end);
        buffer_.erase(0, end + 1);
        Struct message;
        auto status =
            google::protobuf::util::JsonStringToMessage(json, &message);
        if (!status.ok()) {
          return absl::InternalError(absl::StrCat(
              "unreadable DevTools message: ", json.substr(0, 200)));
        }
        return message;
      }
      absl::Duration left = deadline_ - absl::Now();
      if (left <= absl::ZeroDuration()) {
        return absl::DeadlineExceededError(absl::StrCat(
            "Chromium did not answer in time (waiting for ", waiting_for, ")"));
      }
      struct pollfd pfd = {read_fd_, POLLIN, 0};
      int ready =
          poll(&pfd, 1,
               static_cast<int>(std::ceil(absl::ToDoubleMilliseconds(left))));
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) continue;
      char chunk[1 << 16];
      ssize_t n = read(read_fd_, chunk, sizeof(chunk));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        return absl::UnavailableError(
            absl::StrCat("Chromium closed its DevTools pipe (waiting for ",
                         waiting_for, ")"));
      }
      buffer_.append(chunk, n);
    }
  }

  void Handle(const Struct& event) {
    const std::string method = FindString(event, {"method"});
    if (method.empty()) return;
    seen_events_.insert(method);
    const Value* params_value = Find(event, {"params"});
    Struct params = params_value != nullptr && params_value->has_struct_value()
                        ? params_value->struct_value()
                        : Struct();
    if (method == "Runtime.exceptionThrown") {
      std::string text =
          FindString(params, {"exceptionDetails", "exception", "description"});
      if (text.empty()) text = FindString(params, {"exceptionDetails", "text"});
      errors_->push_back(absl::StrCat("uncaught exception: ", text));
    } else if (method == "Runtime.consoleAPICalled") {
      const std::string type = FindString(params, {"type"});
      if (type == "error" || type == "assert") {
        errors_->push_back(
            absl::StrCat("console.", type, ": ", ConsoleText(params)));
      }
    } else if (method == "Log.entryAdded") {
      if (FindString(params, {"entry", "level"}) == "error") {
        errors_->push_back(
            absl::StrCat("browser log: ", FindString(params, {"entry", "text"}),
                         " ", FindString(params, {"entry", "url"})));
      }
    } else if (method == "Inspector.targetCrashed") {
      errors_->push_back("the page crashed");
    }
  }

  int write_fd_;
  int read_fd_;
  absl::Time deadline_;
  std::vector<std::string>* errors_;
  std::string buffer_;
  std::string session_;
  int last_id_ = 0;
  std::set<std::string> seen_events_;
};

// Moves `fd` to `target` in the child, whatever their current numbers.
void MoveFd(int fd, int target) {
  if (fd != target) {
    dup2(fd, target);
    close(fd);
  } else {
    // Keep it open across exec.
    fcntl(fd, F_SETFD, 0);
  }
}

std::string ReadTail(const std::string& path, size_t max_chars) {
  std::string text;
  if (!ReadFile(path, &text).ok()) return "";
  if (text.size() > max_chars) text = text.substr(text.size() - max_chars);
  return text;
}

}  // namespace

std::string JsonQuote(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += "\"";
  return out;
}

absl::StatusOr<PageReport> LoadPageInHeadlessChromium(
    const std::string& html_path, const std::string& expression,
    const BrowserOptions& options) {
  if (access(options.chromium.c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        options.chromium,
        " not found: the HTML report is tested in headless Chromium; install "
        "it with `apt-get install -y chromium` (Debian's package)"));
  }
  if (options.user_data_dir.empty()) {
    return absl::InvalidArgumentError(
        "BrowserOptions.user_data_dir is empty: allowed: a fresh folder");
  }
  absl::Status status = MakeDirs(options.user_data_dir);
  if (!status.ok()) return status;
  std::error_code error;
  const std::string absolute =
      std::filesystem::absolute(html_path, error).string();
  const std::string log_path = options.user_data_dir + "/chromium.log";

  // Commands go into to_browser, answers come out of from_browser.
  int to_browser[2], from_browser[2];
  if (pipe(to_browser) != 0 || pipe(from_browser) != 0) {
    return absl::InternalError(
        absl::StrCat("pipe failed: ", std::strerror(errno)));
  }
  std::vector<std::string> args = {
      options.chromium,
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-extensions",
      "--mute-audio",
      "--hide-scrollbars",
      "--force-device-scale-factor=1",
      "--remote-debugging-pipe",
      absl::StrCat("--user-data-dir=", options.user_data_dir),
      absl::StrCat("--window-size=", options.width, ",900"),
      "about:blank"};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  pid_t pid = fork();
  if (pid < 0) {
    return absl::InternalError(
        absl::StrCat("fork failed: ", std::strerror(errno)));
  }
  if (pid == 0) {
    // The child: its own process group (so the whole browser can be stopped
    // together), the pipe ends on fds 3 and 4, output into the log.
    setpgid(0, 0);
    int read_end = fcntl(to_browser[0], F_DUPFD, 10);
    int write_end = fcntl(from_browser[1], F_DUPFD, 10);
    close(to_browser[0]);
    close(to_browser[1]);
    close(from_browser[0]);
    close(from_browser[1]);
    int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (log >= 0) {
      dup2(log, 1);
      dup2(log, 2);
      close(log);
    }
    MoveFd(read_end, 3);
    MoveFd(write_end, 4);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(to_browser[0]);
  close(from_browser[1]);
  // A browser that dies mid-write must not kill the test with SIGPIPE.
  struct sigaction ignore = {}, previous = {};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ignore, &previous);

  PageReport report;
  const absl::Time deadline =
      absl::Now() + absl::Seconds(options.timeout_seconds);
  DevToolsPipe devtools(to_browser[1], from_browser[0], deadline,
                        &report.errors);
  auto run = [&]() -> absl::Status {
    absl::StatusOr<Struct> target =
        devtools.Call("Target.createTarget", "{\"url\":\"about:blank\"}");
    if (!target.ok()) return target.status();
    absl::StatusOr<Struct> attached = devtools.Call(
        "Target.attachToTarget",
        absl::StrCat(
            "{\"targetId\":", JsonQuote(FindString(*target, {"targetId"})),
            ",\"flatten\":true}"));
    if (!attached.ok()) return attached.status();
    devtools.set_session(FindString(*attached, {"sessionId"}));
    for (const char* method : {"Runtime.enable", "Log.enable", "Page.enable"}) {
      absl::StatusOr<Struct> enabled = devtools.Call(method);
      if (!enabled.ok()) return enabled.status();
    }
    const std::string metrics = absl::StrCat(
        "{\"width\":", options.width,
        ",\"height\":900,\"deviceScaleFactor\":1,\"mobile\":false}");
    absl::StatusOr<Struct> sized =
        devtools.Call("Emulation.setDeviceMetricsOverride", metrics);
    if (!sized.ok()) return sized.status();
    absl::StatusOr<Struct> navigated = devtools.Call(
        "Page.navigate",
        absl::StrCat("{\"url\":", JsonQuote("file://" + absolute), "}"));
    if (!navigated.ok()) return navigated.status();
    std::string navigation_error = FindString(*navigated, {"errorText"});
    if (!navigation_error.empty()) {
      return absl::NotFoundError(absl::StrCat(
          "Chromium could not open ", absolute, ": ", navigation_error));
    }
    absl::Status loaded = devtools.AwaitEvent("Page.loadEventFired");
    if (!loaded.ok()) return loaded;
    absl::StatusOr<Struct> evaluated =
        devtools.Call("Runtime.evaluate",
                      absl::StrCat("{\"expression\":", JsonQuote(expression),
                                   ",\"returnByValue\":true}"));
    if (!evaluated.ok()) return evaluated.status();
    if (Find(*evaluated, {"exceptionDetails"}) != nullptr) {
      return absl::InternalError(absl::StrCat(
          "the check script threw: ",
          FindString(*evaluated,
                     {"exceptionDetails", "exception", "description"})));
    }
    report.evaluation = FindString(*evaluated, {"result", "value"});
    absl::StatusOr<Struct> layout = devtools.Call("Page.getLayoutMetrics");
    if (!layout.ok()) return layout.status();
    double height = FindNumber(*layout, {"cssContentSize", "height"});
    if (!(height > 0)) height = FindNumber(*layout, {"contentSize", "height"});
    height = std::clamp(height, 100.0, 20000.0);
    sized = devtools.Call(
        "Emulation.setDeviceMetricsOverride",
        absl::StrCat("{\"width\":", options.width,
                     ",\"height\":", static_cast<int>(std::ceil(height)),
                     ",\"deviceScaleFactor\":1,\"mobile\":false}"));
    if (!sized.ok()) return sized.status();
    absl::StatusOr<Struct> shot =
        devtools.Call("Page.captureScreenshot",
                      "{\"format\":\"png\",\"captureBeyondViewport\":true}");
    if (!shot.ok()) return shot.status();
    if (!absl::Base64Unescape(FindString(*shot, {"data"}),
                              &report.screenshot_png)) {
      return absl::InternalError("the screenshot is not valid base64");
    }
    for (int y = 0; options.slice_height > 0 && y < height;
         y += options.slice_height) {
      absl::StatusOr<Struct> slice = devtools.Call(
          "Page.captureScreenshot",
          absl::StrFormat("{\"format\":\"png\",\"captureBeyondViewport\":"
                          "true,\"clip\":{\"x\":0,\"y\":%d,\"width\":%d,"
                          "\"height\":%d,\"scale\":1}}",
                          y, options.width,
                          std::min<int>(options.slice_height, height - y)));
      if (!slice.ok()) return slice.status();
      std::string png;
      if (!absl::Base64Unescape(FindString(*slice, {"data"}), &png)) {
        return absl::InternalError("a screenshot slice is not valid base64");
      }
      report.slice_pngs.push_back(std::move(png));
    }
    devtools.set_session("");
    // The browser closes itself; its answer may not come.
    devtools.Call("Browser.close").status().IgnoreError();
    return absl::OkStatus();
  };
  status = run();
  close(to_browser[1]);
  close(from_browser[0]);

  // Give the browser a few seconds to exit, then stop its process group.
  int wstatus = 0;
  bool exited = false;
  for (int i = 0; i < 100 && !exited; ++i) {
    exited = waitpid(pid, &wstatus, WNOHANG) == pid;
    if (!exited) absl::SleepFor(absl::Milliseconds(50));
  }
  if (!exited) {
    kill(-pid, SIGKILL);
    waitpid(pid, &wstatus, 0);
  }
  sigaction(SIGPIPE, &previous, nullptr);
  if (!status.ok()) {
    return absl::Status(
        status.code(),
        absl::StrCat(status.message(), "; Chromium's log ends with:\n",
                     ReadTail(log_path, 2000)));
  }
  return report;
}

}  // namespace lra
