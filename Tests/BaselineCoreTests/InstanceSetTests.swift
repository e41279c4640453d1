import BaselineCore
import Foundation
import Testing

/// `InstanceSet` replaced `Set<Int32>` in every node's statistics: it must answer every question
/// the set answered, for ordinals in the inline word, beyond it, and (never handed out, but
/// representable) below zero.
@Suite struct InstanceSetTests {
    @Test(arguments: [UInt64(1), 2, 3, 4, 5, 6, 7, 8])
    func behavesAsASetOfOrdinals(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        var fast = InstanceSet(), reference = Set<Int32>()
        var otherFast = InstanceSet(), otherReference = Set<Int32>()
        for step in 0..<2_000 {
            // Mostly the dense small ordinals of a real version, some large, a few negative.
            let ordinal: Int32 = switch random.below(10) {
            case 0..<6: Int32(random.below(64))
            case 6..<9: Int32(64 + random.below(5_000))
            default: -Int32(1 + random.below(100))
            }
            if random.below(4) == 0 {
                otherFast.insert(ordinal)
                otherReference.insert(ordinal)
            } else {
                #expect(fast.insert(ordinal) == reference.insert(ordinal).inserted)
            }
            if step % 97 == 0 {
                fast.formUnion(otherFast)
                reference.formUnion(otherReference)
            }
            let probe: Int32 = Int32(random.below(5_100)) - 50
            #expect(fast.contains(probe) == reference.contains(probe))
        }
        #expect(fast.count == reference.count)
        #expect(Set(fast) == reference)
        #expect(Array(fast).count == reference.count, "no ordinal is yielded twice")
        #expect(fast.union(otherFast) == InstanceSet(reference.union(otherReference)))
        // Equal sets are equal values with equal hashes, whatever order built them.
        let shuffled = InstanceSet(random.shuffle(Array(reference)))
        #expect(shuffled == fast)
        #expect(shuffled.hashValue == fast.hashValue)
    }

    @Test func encodesAsTheArrayOfOrdinalsTheSetWas() throws {
        let set: InstanceSet = [70, 3, 0, 63, 64, 1_000]
        let data = try JSONEncoder().encode(set)
        #expect(try JSONDecoder().decode([Int32].self, from: data) == [0, 3, 63, 64, 70, 1_000])
        let fromOldSet = try JSONEncoder().encode(Set<Int32>([5, 900, 64]))
        #expect(try JSONDecoder().decode(InstanceSet.self, from: fromOldSet) == [5, 64, 900])
        #expect(InstanceSet().isEmpty && InstanceSet().count == 0)
    }
}
