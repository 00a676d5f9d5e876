import CLibUV
import Foundation
import Testing
@testable import UVLoop

@Suite("Timers, wakers, signals")
struct LoopHandleTests {
    @Test func timerFiresOnce() throws {
        let loop = try EventLoop()
        var fired = 0
        let start = loop.now
        var firedAt: UInt64 = 0
        let timer = LoopTimer(loop: loop) {
            fired += 1
            firedAt = loop.now
        }
        timer.start(afterMilliseconds: 20)
        loop.run()  // returns once the one-shot timer is no longer active
        #expect(fired == 1)
        #expect(firedAt - start >= 20)
        timer.close()
        #expect(loop.shutdown() == 0)
    }

    @Test func timerRepeatsUntilStopped() throws {
        let loop = try EventLoop()
        var fired = 0
        var timer: LoopTimer?
        timer = LoopTimer(loop: loop) {
            fired += 1
            if fired == 4 { timer?.stop() }
        }
        timer?.start(afterMilliseconds: 1, repeatMilliseconds: 2)
        loop.run()
        #expect(fired == 4)
        timer?.close()
        timer = nil  // the closure captured `timer`; break that cycle
        #expect(loop.shutdown() == 0)
    }

    /// A grace timer that does not keep the loop alive: `run()` returns as soon as the other
    /// handle is gone, and the grace timer still fires while that handle lives.
    @Test func timerThatDoesNotKeepLoopAlive() throws {
        let loop = try EventLoop()
        var graceFired = false
        let grace = LoopTimer(loop: loop) { graceFired = true }
        grace.keepsLoopAlive = false
        grace.start(afterMilliseconds: 60_000)
        let work = LoopTimer(loop: loop) {}
        work.start(afterMilliseconds: 5)
        let start = loop.now
        loop.run()  // only `work` keeps it running
        #expect(loop.now - start < 5_000)
        #expect(!graceFired)

        let shortGrace = LoopTimer(loop: loop) { graceFired = true }
        shortGrace.keepsLoopAlive = false
        shortGrace.start(afterMilliseconds: 5)
        work.start(afterMilliseconds: 50)
        loop.run()
        #expect(graceFired, "an unreferenced timer fires while another handle keeps the loop running")
        for timer in [grace, shortGrace, work] { timer.close() }
        #expect(loop.shutdown() == 0)
    }

    @Test func wakerRunsOnLoopWhenWokenFromAnotherThread() throws {
        let loop = try EventLoop()
        var wakes = 0
        let waker = try LoopWaker(loop: loop) {
            wakes += 1
            loop.stop()
        }
        Thread.detachNewThread {
            usleep(10_000)
            waker.wake()
        }
        loop.run()  // only the waker keeps the loop alive; its callback stops it
        #expect(wakes == 1)
        waker.close()
        waker.wake()  // harmless after close
        #expect(loop.shutdown() == 0)
    }

    @Test func signalWatcherSeesRaisedSignal() throws {
        let loop = try EventLoop()
        var seen: Int32 = 0
        let watcher = try SignalWatcher(loop: loop, signal: SIGUSR1) { signal in
            seen = signal
            loop.stop()
        }
        // kill, not raise: the test runs on a libdispatch worker thread, which blocks signals, so a
        // thread-directed raise() would stay pending; a process-directed signal reaches a thread
        // that accepts it, and libuv's handler forwards it to the loop.
        kill(getpid(), SIGUSR1)
        #expect(runLoop(loop) { seen != 0 })
        #expect(seen == SIGUSR1)
        watcher.close()
        #expect(loop.shutdown() == 0)
    }

    /// A watcher that does not keep the loop alive (a server's, through shutdown): `run()` ends without
    /// it, and it still handles its signal while another handle keeps the loop running.
    @Test func signalWatcherThatDoesNotKeepLoopAlive() throws {
        let loop = try EventLoop()
        var seen = 0
        // SIGUSR2: no other test watches it, so tests running in parallel cannot take each other's signal.
        let watcher = try SignalWatcher(loop: loop, signal: SIGUSR2) { _ in seen += 1 }
        watcher.keepsLoopAlive = false
        let start = loop.now
        loop.run()  // nothing else is active: returns at once
        #expect(loop.now - start < 5_000)
        let work = LoopTimer(loop: loop) {}
        work.start(afterMilliseconds: 60_000)
        kill(getpid(), SIGUSR2)
        #expect(runLoop(loop) { seen == 1 }, "an unreferenced watcher handles its signal while the loop runs")
        work.close()
        watcher.close()
        #expect(loop.shutdown() == 0)
    }

    @Test func errorsCarryLibuvNames() {
        #expect(UVError.connectionRefused.name == "ECONNREFUSED")
        #expect(UVError.timedOut.name == "ETIMEDOUT")
        #expect(UVError(code: UV_EADDRINUSE.rawValue).description == "address already in use")
    }

    @Test func listenerOnUsedPortFailsWithAddressInUse() throws {
        let loop = try EventLoop()
        let first = try TCPListener(loop: loop, host: "127.0.0.1", port: 0) { _ in }
        #expect(throws: UVError(code: UV_EADDRINUSE.rawValue)) {
            _ = try TCPListener(loop: loop, host: "127.0.0.1", port: first.port) { _ in }
        }
        first.close()
        #expect(loop.shutdown() == 0)
    }
}
