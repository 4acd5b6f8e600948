# A handler for tandem's isolation tests (`_HANDLER=probe.handler`): the event
# is a JSON string holding a shell command, which it runs; the answer is the
# command's output. It is how the tests play a hostile function. Never deploy it.
handler() {
  COMMAND="${1#\"}"
  COMMAND="${COMMAND%\"}"
  sh -c "$COMMAND" 2>&1
  echo "probe-exit=$?"
}
