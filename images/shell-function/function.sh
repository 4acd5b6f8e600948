# The handler (AWS's tutorial example, plus a failure path): it gets the event
# as $1, prints the response on stdout; a non-zero exit is a function error
# whose message is the last line on stderr.
handler() {
  EVENT_DATA="$1"
  echo "shell-function got: $EVENT_DATA" >&2
  case "$EVENT_DATA" in
    *'"fail"'*)
      echo "asked to fail" >&2
      return 1
      ;;
  esac
  printf '{"runtime":"busybox sh","event":%s}' "$EVENT_DATA"
}
