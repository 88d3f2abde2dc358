from chatsvc.net.reuseport import ReusePortParser

reuseportEndpointParser = ReusePortParser()
