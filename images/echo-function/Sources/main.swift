import TandemLambdaRuntime

print("echo-function: runtime API \(LambdaRuntimeAPI.version)")
