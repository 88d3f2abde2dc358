from twisted.application.service import ServiceMaker

chat = ServiceMaker("chat", "chatsvc.tap", "A small chat server", "chat")
