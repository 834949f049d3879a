#!/usr/bin/python3
"""paho-mqtt (Debian's python3-paho-mqtt) against the EdgeFlow broker, for
tests/integration/mqtt-interop.int.test.ts. Prints one JSON line with what it saw.

usage: paho_interop.py PORT v311|v5
  v311: a persistent QoS 2 subscriber and a publisher of QoS 0/1/2 messages; every published
        message must come back once (QoS 1 at least once), and the session must be present
        on reconnect.
  v5:   an MQTT 5 CONNECT; the broker speaks 3.1.1 only and must refuse it.
"""
import json
import sys
import threading

import paho.mqtt.client as mqtt

port = int(sys.argv[1])
mode = sys.argv[2]
out = {}


def connack_waiter(client):
    done = threading.Event()
    result = {}

    def on_connect(c, userdata, flags, rc, properties=None):
        result["rc"] = int(rc) if not hasattr(rc, "value") else rc.value
        result["session_present"] = bool(flags.get("session present", 0))
        done.set()

    def on_disconnect(c, userdata, rc, properties=None):
        result.setdefault("disconnect", int(rc) if not hasattr(rc, "value") else rc.value)
        done.set()

    client.on_connect = on_connect
    client.on_disconnect = on_disconnect
    return done, result


if mode == "v5":
    c = mqtt.Client(client_id="paho-v5", protocol=mqtt.MQTTv5)
    done, result = connack_waiter(c)
    c.connect("127.0.0.1", port, keepalive=30)
    c.loop_start()
    done.wait(10)
    c.loop_stop()
    out = result
else:
    got = []
    all_in = threading.Event()
    sub = mqtt.Client(client_id="paho-sub", clean_session=False, protocol=mqtt.MQTTv311)
    done, first = connack_waiter(sub)
    subscribed = threading.Event()
    sub.on_subscribe = lambda c, u, mid, granted: subscribed.set()

    def on_message(c, u, msg):
        got.append([msg.payload.decode(), msg.qos, bool(msg.retain)])
        if len(got) >= 6:
            all_in.set()

    sub.on_message = on_message
    sub.connect("127.0.0.1", port, keepalive=30)
    sub.loop_start()
    done.wait(10)
    sub.subscribe("interop/paho/#", qos=2)
    subscribed.wait(10)
    pub = mqtt.Client(client_id="paho-pub", clean_session=True, protocol=mqtt.MQTTv311)
    # paho drops a QoS 0 publish made before CONNACK (it queues only QoS 1/2): wait for it.
    pub_done, _ = connack_waiter(pub)
    pub.connect("127.0.0.1", port, keepalive=30)
    pub.loop_start()
    pub_done.wait(10)
    infos = []
    for i in range(6):
        infos.append(pub.publish("interop/paho/t", f"m{i}", qos=i % 3))
    for info in infos:
        info.wait_for_publish(10)
    all_in.wait(15)
    sub.disconnect()
    sub.loop_stop()
    pub.disconnect()
    pub.loop_stop()
    again = mqtt.Client(client_id="paho-sub", clean_session=False, protocol=mqtt.MQTTv311)
    done2, second = connack_waiter(again)
    again.connect("127.0.0.1", port, keepalive=30)
    again.loop_start()
    done2.wait(10)
    again.disconnect()
    again.loop_stop()
    out = {"first": first, "second": second, "got": sorted(got)}

print(json.dumps(out))
