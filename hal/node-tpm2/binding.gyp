{
  "targets": [
    {
      "target_name": "node_tpm2",
      "sources": ["native/binding.cc", "native/commands.cc"],
      "include_dirs": [
        "<!@(node -p \"require('node-addon-api').include\")",
        "<!@(pkg-config --cflags-only-I tss2-esys tss2-tctildr tss2-mu tss2-rc | sed 's/-I//g')"
      ],
      "libraries": ["<!@(pkg-config --libs tss2-esys tss2-tctildr tss2-mu tss2-rc)"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra"],
      "cflags_cc!": ["-fno-exceptions"]
    }
  ]
}
