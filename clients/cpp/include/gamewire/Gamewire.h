#pragma once

// Everything a client needs: the service, sessions, framing and send buffers.
#include "ClientService.h"
#include "Defaults.h"
#include "DisconnectCause.h"
#include "PacketHeader.h"
#include "PacketScanner.h"
#include "PacketSession.h"
#include "RecvBuffer.h"
#include "SendBuffer.h"
#include "Session.h"
