/// A small deterministic pseudo-random generator (SplitMix64) for the fleet generator: the same
/// seed yields the same sequence on every run, platform and Swift version. Only the helpers here
/// (not the standard library's `random(in:using:)`/`shuffled(using:)`, whose algorithms are not
/// promised to stay the same) turn its output into choices, so generated fleets are reproducible.
public struct SeededRandom: RandomNumberGenerator, Sendable, Hashable {
    public private(set) var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    /// An independent stream for one part of the generation (`"dumps/nginx/1.25.0/2"`), so adding
    /// signals or images does not change what other parts draw.
    public init(seed: UInt64, stream: String) {
        var mixer = SeededRandom(seed: seed ^ Self.fnv1a(stream))
        state = mixer.next()
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform integer in `0..<bound` (Lemire's multiply-and-reject; bound > 0).
    public mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0, "bound must be positive")
        let n = UInt64(bound)
        var product = next().multipliedFullWidth(by: n)
        if product.low < n {
            let threshold = (0 &- n) % n
            while product.low < threshold { product = next().multipliedFullWidth(by: n) }
        }
        return Int(product.high)
    }

    /// A uniform integer in `range` (not empty).
    public mutating func int(in range: Range<Int>) -> Int { range.lowerBound + below(range.count) }

    /// A uniform element of `items` (not empty).
    public mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    /// `items` in a uniformly random order (Fisher–Yates).
    public mutating func shuffle<T>(_ items: [T]) -> [T] {
        var out = items
        var i = out.count
        while i > 1 {
            let j = below(i)
            i -= 1
            out.swapAt(i, j)
        }
        return out
    }

    /// `count` lowercase hex digits.
    public mutating func hex(_ count: Int) -> String {
        let digits = Array("0123456789abcdef")
        var out = ""
        for _ in 0..<count { out.append(digits[below(16)]) }
        return out
    }

    /// 64-bit FNV-1a of the UTF-8 bytes: a stable string hash (Swift's `Hasher` is seeded per process).
    public static func fnv1a(_ s: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in s.utf8 {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01B3
        }
        return h
    }
}
