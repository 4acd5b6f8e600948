/// The tandem daemon.
public enum ControllerInfo {
    public static let stateDirectory = ".tandem"
}
