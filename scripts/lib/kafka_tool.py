"""Small Kafka helper for scripts (librdkafka 2.16 from the project's venv; Debian's kcat cannot
talk to the local broker). Usage:
  kafka_tool.py produce BROKERS TOPIC FILE      # lines "key<TAB>value" (value "b64:…" is base64 bytes)
  kafka_tool.py keys BROKERS TOPIC              # prints "<distinct keys> <duplicates>"
  kafka_tool.py count BROKERS TOPIC             # prints the number of messages
  kafka_tool.py field BROKERS TOPIC NAME        # prints each JSON value's top-level NAME, one a line
"""
import base64, json, sys, time, uuid
from confluent_kafka import Consumer, Producer, TopicPartition


def produce(brokers, topic, path):
    p = Producer({"bootstrap.servers": brokers, "linger.ms": 20, "message.max.bytes": 10_000_000})
    with open(path) as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("\t")
            payload = base64.b64decode(value[4:]) if value.startswith("b64:") else value.encode()
            while True:
                try:
                    p.produce(topic, key=key.encode(), value=payload)
                    break
                except BufferError:
                    p.poll(0.1)
            p.poll(0)
    if p.flush(60) != 0:
        sys.exit("produce: not every message was delivered")


def read_all(brokers, topic, values=False):
    c = Consumer({"bootstrap.servers": brokers, "group.id": "tool-" + uuid.uuid4().hex, "auto.offset.reset": "earliest",
                  "enable.auto.commit": False})
    meta = c.list_topics(topic, timeout=10)
    if topic not in meta.topics or meta.topics[topic].error is not None:
        c.close()
        return []
    parts = [TopicPartition(topic, p) for p in meta.topics[topic].partitions]
    ends = {}
    for tp in parts:
        low, high = c.get_watermark_offsets(tp, timeout=10)
        if high > low:
            ends[tp.partition] = high
    c.assign([TopicPartition(topic, p, 0) for p in ends] or parts)
    keys, done, deadline = [], set(), time.time() + 120
    while len(done) < len(ends) and time.time() < deadline:
        for m in c.consume(1000, 1.0):
            if m.error():
                continue
            keys.append(m.value() if values else m.key())
            if m.offset() + 1 >= ends.get(m.partition(), 0):
                done.add(m.partition())
    c.close()
    return keys


if __name__ == "__main__":
    cmd, brokers, topic = sys.argv[1], sys.argv[2], sys.argv[3]
    if cmd == "produce":
        produce(brokers, topic, sys.argv[4])
    elif cmd == "keys":
        keys = read_all(brokers, topic)
        print(len(set(keys)), len(keys) - len(set(keys)))
    elif cmd == "count":
        print(len(read_all(brokers, topic)))
    elif cmd == "field":
        for value in read_all(brokers, topic, values=True):
            try:
                print(json.loads(value)[sys.argv[4]])
            except (ValueError, KeyError, TypeError):
                print("<unreadable>")
