"""manifests/envoy/bootstrap.yaml is a real Envoy v3 bootstrap: it parses into Envoy's
Bootstrap message (reference API, xds-protos) with no unknown field, passes Envoy's
validation rules (protoc-gen-validate), and points ADS at the control plane over HTTP/2."""
import os
import unittest

import yaml
from google.protobuf import json_format
from protoc_gen_validate.validator import validate

# Registers the types the bootstrap's Any fields hold.
import envoy.extensions.upstreams.http.v3.http_protocol_options_pb2 as http_options  # noqa: F401
from envoy.config.bootstrap.v3 import bootstrap_pb2

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PATH = os.path.join(ROOT, "manifests/envoy/bootstrap.yaml")


class BootstrapTest(unittest.TestCase):
    def test_bootstrap_is_valid_envoy_config(self):
        with open(PATH) as f:
            document = yaml.safe_load(f)
        bootstrap = bootstrap_pb2.Bootstrap()
        # Strict: an unknown or misspelled field fails here.
        json_format.ParseDict(document, bootstrap, ignore_unknown_fields=False)
        validate(bootstrap)
        self.assertTrue(bootstrap.node.id and bootstrap.node.cluster)
        ads = bootstrap.dynamic_resources.ads_config
        self.assertEqual(ads.api_type, ads.GRPC)
        self.assertEqual(ads.transport_api_version, 2)  # V3
        self.assertEqual(ads.grpc_services[0].envoy_grpc.cluster_name, "xds")
        self.assertTrue(bootstrap.dynamic_resources.lds_config.HasField("ads"))
        self.assertTrue(bootstrap.dynamic_resources.cds_config.HasField("ads"))
        xds = next(c for c in bootstrap.static_resources.clusters if c.name == "xds")
        options = http_options.HttpProtocolOptions()
        xds.typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"].Unpack(options)
        self.assertTrue(options.explicit_http_config.HasField("http2_protocol_options"))
        validate(options)
        address = xds.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address
        self.assertEqual((address.address, address.port_value), ("127.0.0.1", 18000))
        self.assertEqual(bootstrap.admin.address.socket_address.address, "127.0.0.1")
        rtds = [l for l in bootstrap.layered_runtime.layers if l.HasField("rtds_layer")]
        self.assertEqual(rtds[0].rtds_layer.name, "shadowplane")

    def test_a_broken_bootstrap_is_caught(self):
        # The check can fail: a misspelled field and a missing cluster name are rejected.
        with open(PATH) as f:
            document = yaml.safe_load(f)
        document["dynamic_resources"]["ads_config"]["grpc_service"] = document["dynamic_resources"]["ads_config"].pop("grpc_services")
        with self.assertRaises(json_format.ParseError):
            json_format.ParseDict(document, bootstrap_pb2.Bootstrap())
        with open(PATH) as f:
            document = yaml.safe_load(f)
        document["static_resources"]["clusters"][0]["name"] = ""
        bootstrap = bootstrap_pb2.Bootstrap()
        json_format.ParseDict(document, bootstrap)
        with self.assertRaises(Exception):
            validate(bootstrap)


if __name__ == "__main__":
    unittest.main(verbosity=2)
