{
  "targets": [
    {
      "target_name": "edgeflow_gpio_cdev",
      "sources": ["src/gpio_cdev.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8"],
      "conditions": [
        ["OS!='linux'", { "sources!": ["src/gpio_cdev.c"], "sources": ["src/unsupported.c"] }]
      ]
    }
  ]
}
