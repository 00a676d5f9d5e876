import CLibFuzzer
import Foundation

/// Starts libFuzzer from a Swift executable.
///
/// SwiftPM gives every executable target a Swift `main` (and links it over libFuzzer's own `main`), so each
/// harness's `main.swift` calls `FuzzDriver.run` with its `LLVMFuzzerTestOneInput` function instead. libFuzzer
/// then behaves exactly as with its own `main`: same flags, corpus directories, crash files and exit codes.
public enum FuzzDriver {
    /// libFuzzer's per-input callback: `(data, size) -> 0`, or -1 to keep the input out of the corpus.
    public typealias TestOneInput = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

    /// Hands this process's arguments to libFuzzer and exits with its status.
    public static func run(_ testOneInput: TestOneInput) -> Never {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, testOneInput))
    }

    /// The bytes libFuzzer handed over as a raw buffer (an empty input may come with a nil pointer).
    public static func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    }
}
