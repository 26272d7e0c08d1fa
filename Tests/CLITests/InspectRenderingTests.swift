import AdminAPI
import Foundation
import Testing
import XDSCore

@testable import shadowplane

/// 2027-01-15T08:00:00Z, and seconds after it.
func instant(_ seconds: TimeInterval = 0) -> Date {
  Date(timeIntervalSince1970: 1_800_000_000 + seconds)
}

/// The rendering of `proxy-status`, `history`, `runtime get` and `diff`, from typed values.
@Suite struct InspectRenderingTests {
  /// A stream of `node` with CDS synced, LDS stale, RDS NACKed and nothing else sent.
  static func stream(_ node: String, id: UInt64 = 1) -> ClientStatus {
    var synced = TypeStatus()
    synced.sentVersion = "aaaaaaaa11111111"
    synced.sentNonce = "3"
    synced.sentAt = instant(1)
    synced.sentResources = 3
    synced.ackedVersion = "aaaaaaaa11111111"
    synced.ackedAt = instant(2)
    synced.subscription = Subscription(wildcard: true)
    synced.state = synced.currentState
    var stale = TypeStatus()
    stale.sentVersion = "bbbbbbbb22222222"
    stale.sentNonce = "4"
    stale.subscription = Subscription(wildcard: true, names: ["b", "a"])
    stale.state = stale.currentState
    var nacked = TypeStatus()
    nacked.sentVersion = "cccccccc33333333"
    nacked.ackedVersion = "dddddddd44444444"
    nacked.subscription = Subscription(wildcard: false, names: ["8000"])
    nacked.lastNack = NackRecord(version: "cccccccc33333333", message: "bad route", at: instant(5))
    nacked.state = nacked.currentState
    return ClientStatus(
      streamID: id, nodeID: node, nodeCluster: "edge", userAgent: "envoy/1.31", streamKind: .ads,
      variant: .delta, peer: "ipv4:127.0.0.1:5000", connectedSince: instant(),
      types: [.cluster: synced, .listener: stale, .route: nacked])
  }

  @Test func proxyStatusTable() {
    let table = ProxyStatusCommand.table([
      Self.stream("b-node"), Self.stream("a-node", id: 9), Self.stream("a-node", id: 4),
    ])
    #expect(
      table == """
        NAME                CLUSTER   USER AGENT   CDS                 LDS                EDS        RDS               RTDS
        a-node [stream 4]   edge      envoy/1.31   SYNCED (aaaaaaaa)   STALE (bbbbbbbb)   NOT SENT   NACK (cccccccc)   NOT SENT
        a-node [stream 9]   edge      envoy/1.31   SYNCED (aaaaaaaa)   STALE (bbbbbbbb)   NOT SENT   NACK (cccccccc)   NOT SENT
        b-node              edge      envoy/1.31   SYNCED (aaaaaaaa)   STALE (bbbbbbbb)   NOT SENT   NACK (cccccccc)   NOT SENT

        """)
  }

  @Test func proxyStatusColumnsFollowIstioctl() {
    #expect(ProxyStatusCommand.columns == [.cluster, .listener, .endpoint, .route, .runtime])
    #expect(ProxyStatusCommand.cell(TypeStatus()) == "NOT SENT")
  }

  @Test func proxyStatusDetail() {
    #expect(
      ProxyStatusCommand.detail(Self.stream("edge-1")) == """
        Node:         edge-1
        Cluster:      edge
        User agent:   envoy/1.31
        Stream:       1 (ADS, delta) from ipv4:127.0.0.1:5000
        Connected:    2027-01-15T08:00:00Z

        CDS: SYNCED
          Sent:         version aaaaaaaa11111111, nonce 3, at 2027-01-15T08:00:01Z, 3 resource(s)
          ACKed:        version aaaaaaaa11111111, at 2027-01-15T08:00:02Z
          Subscription: wildcard

        LDS: STALE
          Sent:         version bbbbbbbb22222222, nonce 4
          ACKed:        nothing
          Subscription: wildcard + a, b

        RDS: NACK
          Sent:         version cccccccc33333333
          ACKed:        version dddddddd44444444
          Subscription: 8000
          Last NACK:    version cccccccc33333333, at 2027-01-15T08:00:05Z
                        bad route

        """)
  }

  @Test func subscriptions() {
    #expect(ProxyStatusCommand.describe(Subscription(wildcard: false)) == "nothing")
    #expect(
      ProxyStatusCommand.describe(Subscription(wildcard: true, names: ["x"])) == "wildcard + x")
  }

  @Test func historyBlock() {
    let pushes = [
      PushRecord(
        streamID: 1, node: "edge-1", type: .route, version: "0123456789abcdef", revision: 7,
        resources: 1, bytes: 512, variant: .sotw, sentAt: instant(), state: .ack),
      PushRecord(
        streamID: 2, node: "edge-2", type: .route, version: "fedcba9876543210", revision: 7,
        resources: 1, bytes: 498, variant: .delta, sentAt: instant(), state: .nack,
        message: "rejected\nbecause"),
    ]
    let entry = HistoryEntry(
      id: 3, time: instant(60), configRevision: 7,
      changes: [
        ResourceChange(type: .route, name: "8000", action: .changed),
        ResourceChange(type: .cluster, name: "outbound|8000|v2|httpbin", action: .added),
      ],
      nodes: pushes.map(NodePush.init))
    #expect(
      HistoryCommand.block(entry) == """
        #3  2027-01-15T08:01:00Z  revision 7  +1 ~1 -0
          ~   RDS   8000
          +   CDS   outbound|8000|v2|httpbin
          edge-1   RDS   01234567   ACK    sotw    1   512 B
          edge-2   RDS   fedcba98   NACK   delta   1   498 B   rejected because

        """)
  }

  @Test func historyBlockWithoutChangesOrPushes() {
    let entry = HistoryEntry(id: 1, time: instant(), configRevision: 0, changes: [], nodes: [])
    #expect(HistoryCommand.block(entry) == "#1  2027-01-15T08:00:00Z  revision 0  +0 ~0 -0\n")
    #expect(ChangeAction.allCases.map(HistoryCommand.mark) == ["+", "~", "-"])
  }

  @Test func runtimeTable() {
    let overrides = RuntimeOverrides(
      values: ["mirror.default.httpbin.http0.0": "50", "a.key": "125000/MILLION"])
    #expect(
      RuntimeCommand.Get.table(overrides) == """
        KEY                              VALUE
        a.key                            125000/MILLION
        mirror.default.httpbin.http0.0   50

        """)
  }

  /// The diff answer as the control plane writes it: resources in proto3 JSON, members in
  /// field order (not alphabetical), numbers as written.
  static let diffAnswer = #"""
    {"from":1,"to":2,"resources":[
      {"type":"RDS","name":"8000","action":"changed",
       "before":{"name":"8000","virtualHosts":[{"name":"h","domains":["h"],"weight":50.0}]},
       "after":{"name":"8000","virtualHosts":[{"name":"h","domains":["h","h:80"],"weight":50.0}]}},
      {"type":"CDS","name":"c","action":"added","before":null,"after":{"name":"c","type":"EDS"}},
      {"type":"EDS","name":"c","action":"changed","before":{"clusterName":"c"},"after":{"clusterName":"c"}}
    ]}
    """#

  @Test func diffDecodesTheResourcesAsSent() throws {
    let diff = try AdminClient.decode(
      RevisionDiff<JSONValue>.self, from: Data(Self.diffAnswer.utf8), what: "GET /api/v1/diff")
    #expect((diff.from, diff.to) == (1, 2))
    #expect(diff.resources.map(\.action) == [.changed, .added, .changed])
    #expect(diff.resources[1].before == nil)
    let before = try #require(diff.resources[0].before)
    #expect(before.members.map(\.key) == ["name", "virtualHosts"])
    #expect(
      before.compactJSON
        == #"{"name":"8000","virtualHosts":[{"name":"h","domains":["h"],"weight":50.0}]}"#)
  }

  @Test func diffRendering() throws {
    let diff = try AdminClient.decode(
      RevisionDiff<JSONValue>.self, from: Data(Self.diffAnswer.utf8), what: "GET /api/v1/diff")
    let text = diff.resources.map { DiffCommand.render($0, from: diff.from, to: diff.to) }.joined()
    #expect(
      text == """
        --- RDS 8000 (rev 1)
        +++ RDS 8000 (rev 2)
        @@ -4,7 +4,8 @@
             {
               "name": "h",
               "domains": [
        -        "h"
        +        "h",
        +        "h:80"
               ],
               "weight": 50.0
             }
        --- CDS c (rev 1, absent)
        +++ CDS c (rev 2)
        @@ -0,0 +1,4 @@
        +{
        +  "name": "c",
        +  "type": "EDS"
        +}
        --- EDS c (rev 1)
        +++ EDS c (rev 2)
        (no change in the JSON; action changed)

        """)
  }
}
