/// The instances (ordinals into a version's instance table) that showed a node. Ordinals 0–63,
/// the whole table of most versions, are bits of one inline word; any other ordinal goes to a
/// sorted array. A `Set<Int32>` took ~130 B of heap per node for ten instances: a third of a
/// node's memory in a large profile (docs/performance.md). Equal sets have equal representations
/// (the array is sorted and unique), so the synthesised `Hashable` is the set's.
public struct InstanceSet: Hashable, Sendable, Sequence, ExpressibleByArrayLiteral {
    private var low: UInt64 = 0
    private var others: [Int32] = []

    public init() {}

    public init<S: Sequence>(_ ordinals: S) where S.Element == Int32 {
        for o in ordinals { insert(o) }
    }

    public init(arrayLiteral ordinals: Int32...) { self.init(ordinals) }

    public var count: Int { low.nonzeroBitCount + others.count }
    public var isEmpty: Bool { low == 0 && others.isEmpty }

    public func contains(_ ordinal: Int32) -> Bool {
        if let bit = Self.bit(ordinal) { return low & bit != 0 }
        return others.sortedIndex(of: ordinal).found
    }

    /// Adds `ordinal`; true when it was not there yet.
    @discardableResult
    public mutating func insert(_ ordinal: Int32) -> Bool {
        if let bit = Self.bit(ordinal) {
            defer { low |= bit }
            return low & bit == 0
        }
        let (index, found) = others.sortedIndex(of: ordinal)
        if !found { others.insert(ordinal, at: index) }
        return !found
    }

    public mutating func formUnion(_ other: InstanceSet) {
        low |= other.low
        guard !other.others.isEmpty else { return }
        if others.isEmpty { others = other.others; return }
        var merged: [Int32] = []
        merged.reserveCapacity(others.count + other.others.count)
        var i = others.startIndex, j = other.others.startIndex
        while i < others.endIndex || j < other.others.endIndex {
            if j == other.others.endIndex || (i < others.endIndex && others[i] < other.others[j]) {
                merged.append(others[i]); i += 1
            } else if i == others.endIndex || other.others[j] < others[i] {
                merged.append(other.others[j]); j += 1
            } else {
                merged.append(others[i]); i += 1; j += 1
            }
        }
        others = merged
    }

    public func union(_ other: InstanceSet) -> InstanceSet {
        var copy = self
        copy.formUnion(other)
        return copy
    }

    /// The inline word's ordinals ascending, then the others ascending (a version hands out no
    /// negative ordinal, so in practice the whole set is ascending).
    public func makeIterator() -> Iterator { Iterator(low: low, others: others.makeIterator()) }

    public struct Iterator: IteratorProtocol {
        var low: UInt64
        var others: IndexingIterator<[Int32]>

        public mutating func next() -> Int32? {
            if low != 0 {
                let ordinal = Int32(low.trailingZeroBitCount)
                low &= low - 1
                return ordinal
            }
            return others.next()
        }
    }

    private static func bit(_ ordinal: Int32) -> UInt64? {
        (0..<64).contains(ordinal) ? UInt64(1) << UInt64(ordinal) : nil
    }
}

extension InstanceSet: Codable {
    /// An array of ordinals, as the `Set<Int32>` it replaces was encoded.
    public init(from decoder: any Decoder) throws {
        self.init(try [Int32](from: decoder))
    }

    public func encode(to encoder: any Encoder) throws {
        try Array(self).encode(to: encoder)
    }
}

extension Array where Element == Int32 {
    /// Where `value` is or would go in this ascending array (binary search).
    fileprivate func sortedIndex(of value: Int32) -> (index: Int, found: Bool) {
        var lo = startIndex, hi = endIndex
        while lo < hi {
            let mid = (lo + hi) / 2
            if self[mid] < value { lo = mid + 1 } else { hi = mid }
        }
        return (lo, lo < endIndex && self[lo] == value)
    }
}
